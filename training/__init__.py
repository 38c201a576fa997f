"""Training of Murur's plate detector and recogniser (torch; never a Lambda dependency)."""
