"""The demo's citizens and officer, through the local HTTP API (murur.local.gateway) as Khidmati and
the officers' console would call it: a citizen lists their violations and objects to one, an officer
sees the open objections and rules. Up to two owners object, so both rulings are shown."""

from __future__ import annotations

from typing import Any, Callable

from murur.local.identity import citizen_token, officer_token
from murur.local.operator import table_items

DEMO_OFFICER = "officer-demo"
# What each citizen says, and what the officer decides, in the order the owners are taken.
STORIES = [
    ({"reason": "SIGNAL_OR_SIGN_FAULT", "details": "Le panneau de limitation était caché par un camion."}, "UPHOLD",
     "La photo montre le panneau visible ; l'amende est maintenue."),
    ({"reason": "VEHICLE_SOLD_OR_STOLEN", "details": "Véhicule déclaré volé le 2 du mois (plainte jointe)."},
     "CANCEL", "Déclaration de vol vérifiée auprès du commissariat."),
]


def citizens_object_and_an_officer_rules(stack: Any, say: Callable[[str], None]) -> dict[str, Any]:
    issued = sorted((v for v in table_items(stack, "ViolationsTable") if v["status"] in {"ISSUED", "NOTIFIED"}),
                    key=lambda v: v["violation_id"])
    owners = list(dict.fromkeys(v["owner_nni"] for v in issued))[:len(STORIES)]
    summary: dict[str, Any] = {"citizens": len(owners), "listed": {}, "objections": {}}
    if not owners:
        say("\nNo violation to object to: the citizens' API step is skipped.")
        return summary
    say(f"\nCitizens use the API through Khidmati ({len(owners)}), an officer rules on their objections:")
    for number, (nni, (objection, decision, note)) in enumerate(zip(owners, STORIES), start=1):
        token = citizen_token(nni)
        listed = stack.http("GET", "/violations", token=token).json()["violations"]
        violation_id = listed[-1]["violation_id"]  # their oldest
        details = stack.http("GET", f"/violations/{violation_id}", token=token,
                             headers={"Accept-Language": "fr"}).json()
        filed = stack.http("POST", f"/violations/{violation_id}/objection", token=token, body=objection)
        summary["listed"][f"citizen {number}"] = len(listed)
        say(f"  citizen {number}: {len(listed)} violation(s); {violation_id} {details['amount_due_mru']} MRU "
            f"payable by {', '.join(w['name'] for w in details['how_to_pay'])}; objects "
            f"({objection['reason']}) -> {filed.status} {filed.json().get('status', filed.json().get('code'))}")
        summary["objections"][violation_id] = {"filed": filed.status}
    officer = officer_token(DEMO_OFFICER)
    open_objections = stack.http("GET", "/officer/objections", token=officer).json()["objections"]
    say(f"  officer: {len(open_objections)} open objection(s)")
    for violation_id, (_, decision, note) in zip(summary["objections"], STORIES):
        ruled = stack.http("POST", f"/officer/objections/{violation_id}/ruling", token=officer,
                           body={"decision": decision, "note": note}).json()
        summary["objections"][violation_id].update(decision=decision, status=ruled.get("status"),
                                                   sms_sent=ruled.get("sms_sent"))
        deadline = f", new deadline {ruled['deadline_at'][:10]}" if ruled.get("deadline_at") else ""
        say(f"  officer: {decision} {violation_id} -> {ruled.get('status')}{deadline}; "
            f"owner told by SMS: {ruled.get('sms_sent')}")
    return summary
