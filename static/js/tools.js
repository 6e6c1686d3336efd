// Function tools the model may call: name -> async (args) => result. Results never throw:
// a failure becomes {"error": "<sentence>"} so the model can tell the user. Pure apart from
// the injected getWeather (api.js), so node --test runs it.

export function createTools({ getWeather }) {
  return {
    async get_weather(args) {
      const location = String(args.location ?? args.city ?? args.place ?? "").trim();
      if (!location) throw new Error("No location was given for the weather lookup.");
      return getWeather(location);
    },
  };
}

function parseArguments(text) {
  if (!text) return {};
  const value = JSON.parse(text);
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new SyntaxError("not an object");
  return value;
}

// Runs one call and returns {callId, output (a JSON string for function_call_output), ok, text}.
export async function runToolCall(tools, call) {
  const fail = (message) => ({ callId: call.callId, ok: false, output: JSON.stringify({ error: message }), text: message });
  const tool = Object.hasOwn(tools, call.name) ? tools[call.name] : null;
  if (!tool) return fail(`Unknown tool "${call.name}".`);
  let args;
  try {
    args = parseArguments(call.arguments);
  } catch {
    return fail("The tool arguments were not valid JSON.");
  }
  try {
    const result = await tool(args);
    return { callId: call.callId, ok: true, output: JSON.stringify(result), text: summarize(call.name, args, result) };
  } catch (error) {
    return fail(error?.message || "The tool failed.");
  }
}

export function runToolCalls(tools, calls) {
  return Promise.all(calls.map((call) => runToolCall(tools, call)));
}

function summarize(name, args, result) {
  if (name === "get_weather" && result && typeof result === "object") {
    const unit = typeof result.units?.temperature === "string" ? result.units.temperature : "°C";
    const parts = [];
    if (typeof result.temperature === "number") parts.push(`${Math.round(result.temperature)} ${unit}`);
    if (result.conditions) parts.push(result.conditions);
    return `${result.location || args.location || args.city}: ${parts.join(", ") || "no data"}`;
  }
  return `${name} finished.`;
}

// A short label for a call that is still running, e.g. "Checking the weather in Oslo…".
export function describeCall(name, argumentsText) {
  let args = {};
  try {
    args = parseArguments(argumentsText);
  } catch {
    // shown while running only; the result will carry the real error
  }
  if (name === "get_weather") {
    const place = args.location ?? args.city ?? args.place;
    return place ? `Checking the weather in ${place}…` : "Checking the weather…";
  }
  return `Running ${name}…`;
}
