"""Test knobs that change the emulator's behaviour (CLI flags, env vars, `PATCH /_emulator/knobs`)."""

from dataclasses import asdict, dataclass, fields

TRANSCRIPTION_TIMINGS = ("before_response", "during_response", "after_response")


@dataclass
class Knobs:
    """Behaviour switches read by every session at the moment they matter."""

    session_limit: float = 3600.0
    transcription_timing: str = "during_response"
    transcription_fails: bool = False
    generation_pace: float = 0.8
    truncate_on_interrupt: bool = True
    # GPT-Live sessions (the session limit above also sets their `expires_at`).
    live_access: bool = True
    live_usage_interval: float = 5.0
    live_prepaid_seconds: float = 15.0
    live_error_after: float = 0.0
    live_connection_lost_after: float = 0.0
    live_duplicate_transcripts: bool = False
    live_timeline_reset: bool = False

    def update(self, changes: dict) -> None:
        """Apply `changes` (JSON values); raise ValueError for unknown names or bad values."""
        types = {f.name: f.type for f in fields(self)}
        for name, value in changes.items():
            if name not in types:
                raise ValueError(f"Unknown knob '{name}'.")
            if types[name] is bool and not isinstance(value, bool):
                raise ValueError(f"Knob '{name}' must be a boolean.")
            if types[name] is float and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise ValueError(f"Knob '{name}' must be a number.")
            if types[name] is float and value < 0:
                raise ValueError(f"Knob '{name}' must not be negative.")
            if name == "live_usage_interval" and value <= 0:
                raise ValueError("Knob 'live_usage_interval' must be above 0.")
            if name == "transcription_timing" and value not in TRANSCRIPTION_TIMINGS:
                raise ValueError(f"Knob 'transcription_timing' must be one of {TRANSCRIPTION_TIMINGS}.")
        for name, value in changes.items():
            setattr(self, name, float(value) if types[name] is float else value)

    def as_dict(self) -> dict:
        """Return the knobs as JSON-ready values."""
        return asdict(self)
