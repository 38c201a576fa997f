"""Road-safety analytics: offence aggregates kept from the violations stream, black spots, export, report.

Questions are answered from AnalyticsTable's counters (`murur.analytics.aggregates`), never by
scanning ViolationsTable. Times are UTC; Mauritania keeps UTC all year (Africa/Nouakchott is UTC+0,
no daylight saving), so an hour of day in UTC is the local hour.
"""
