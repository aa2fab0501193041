"""2nd-generation resident ID card readers (the GA 467 "SAM module" serial protocol)."""
