// OpenAI's own browser SDK against the local emulator (bundled by esbuild; dev-only, see README.md).
// window.runSdk({ emulator, key, typed }) connects over WebRTC, asks `typed`, and lets the fake
// microphone ask its question; window.sdkReport() says what happened.
import { RealtimeAgent, RealtimeSession, tool } from "@openai/agents-realtime";
import { z } from "zod";
// The SDK's own zod schema of server events (the same module instance its transport parses with).
import { realtimeServerEventSchema } from "./node_modules/@openai/agents-realtime/dist/openaiRealtimeEvents.mjs";

const report = { events: [], invalid: [], errors: [], toolCalls: [], transcripts: [], connected: false };

// Every message the SDK's data channel receives, checked against the SDK's schema.
const createDataChannel = RTCPeerConnection.prototype.createDataChannel;
RTCPeerConnection.prototype.createDataChannel = function (...args) {
  const channel = createDataChannel.apply(this, args);
  channel.addEventListener("message", (message) => {
    const raw = JSON.parse(message.data);
    report.events.push(raw.type);
    const parsed = realtimeServerEventSchema.safeParse(raw);
    if (!parsed.success) report.invalid.push({ type: raw.type, issues: parsed.error.issues });
    if (raw.type === "error") report.errors.push(raw.error);
    if (raw.type === "response.output_audio_transcript.done") report.transcripts.push(raw.transcript);
  });
  return channel;
};

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

function weatherTool(emulator) {
  return tool({
    name: "get_weather",
    description: "Get the current weather for a place.",
    parameters: z.object({ location: z.string() }),
    async execute({ location }) {
      report.toolCalls.push(location);
      const search = await fetchJson(`${emulator}/v1/search?name=${encodeURIComponent(location)}&count=1`);
      const place = (search.results || [])[0];
      if (!place) return JSON.stringify({ error: `No place called ${location}.` });
      const forecast = await fetchJson(
        `${emulator}/v1/forecast?latitude=${place.latitude}&longitude=${place.longitude}` +
          "&current=temperature_2m,weather_code",
      );
      return JSON.stringify({
        location: place.name,
        temperature: forecast.current.temperature_2m,
        weather_code: forecast.current.weather_code,
      });
    },
  });
}

window.runSdk = async ({ emulator, key, typed }) => {
  const agent = new RealtimeAgent({
    name: "Weather assistant",
    instructions: "Answer weather questions with get_weather.",
    tools: [weatherTool(emulator)],
  });
  const session = new RealtimeSession(agent); // WebRTC transport, the SDK's default model
  session.on("error", (error) => report.errors.push(String(error?.error?.message ?? error?.error ?? error)));
  await session.connect({ apiKey: key, url: `${emulator}/v1/realtime/calls` });
  report.connected = true;
  session.sendMessage(typed);
  window.sdkSession = session;
};

window.sdkReport = () => JSON.parse(JSON.stringify(report));
