"""The pure part of the offline voice bench: one run's moments and the medians."""

from bench.voice import summarize, timeline

REPORT = {
    "marks": {"start": 0.0, "minted": 80.0, "open": 700.0, "tool_done": 4080.0},
    "events": [
        ["session.created", 710.0],
        ["input_audio_buffer.speech_started", 2300.0],
        ["input_audio_buffer.speech_stopped", 3900.0],
        ["input_audio_buffer.committed", 3960.0],
        ["response.done", 4050.0],
        ["output_audio_buffer.started", 4300.0],
        ["output_audio_buffer.started", 9000.0],  # a later response: only the first counts
    ],
    "mic": [2000.0, 2500.0, 3400.0, 3450.0, 12000.0],  # the looped file speaks again at 12 s
    "remote": [4100.0, 4420.0, 4500.0],  # 4100: before the answer started, not ours
}


def test_a_run_is_reduced_to_its_moments():
    moments = timeline(REPORT)
    assert moments["speech_end"] == 3450.0  # the last loud microphone sample before speech_stopped
    assert moments["first_audio"] == 4420.0  # the first loud remote sample once the answer started
    assert moments["output_audio_buffer.started"] == 4300.0


def test_the_summary_gives_the_total_and_where_the_time_goes():
    later = {**REPORT, "marks": {**REPORT["marks"], "open": 900.0}}
    results = {r.name: r.ours for r in summarize([timeline(REPORT), timeline(later)], startup_ms=1200)}
    assert results["voice_speech_end_to_audio"] == 4420.0 - 3450.0
    assert results["voice_start_to_open"] == 800.0  # the median of 700 and 900
    assert results["voice_vad_tail"] == 450.0
    assert results["voice_recognition"] == 60.0
    assert results["voice_tool_round_trip"] == 30.0
    assert results["voice_answer_synthesis"] == 220.0
    assert results["voice_playout"] == 120.0
    phases = (
        "vad_tail",
        "recognition",
        "model_to_tool_call",
        "tool_round_trip",
        "answer_synthesis",
        "playout",
    )
    assert sum(results[f"voice_{p}"] for p in phases) == results["voice_speech_end_to_audio"]
