"""Local emulator of the OpenAI Realtime API (WebRTC) and Open-Meteo, for offline runs."""
