"""GPT-Live emulation: `POST /v1/live/sessions` and its `oai-events` data channel."""
