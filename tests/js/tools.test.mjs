import assert from "node:assert/strict";
import { test } from "node:test";

import { createTools, describeCall, runToolCall, runToolCalls } from "../../static/js/tools.js";

const AMSTERDAM = {
  location: "Amsterdam, North Holland, Netherlands",
  temperature: 12.4,
  conditions: "light rain",
  units: { temperature: "°C" },
};

function tools(getWeather = async () => AMSTERDAM) {
  const asked = [];
  return {
    asked,
    tools: createTools({
      getWeather: (location) => {
        asked.push(location);
        return getWeather(location);
      },
    }),
  };
}

test("get_weather returns the weather API body as the output string", async () => {
  const { tools: t, asked } = tools();
  const result = await runToolCall(t, { callId: "call_1", name: "get_weather", arguments: '{"location":"Amsterdam"}' });
  assert.deepEqual(asked, ["Amsterdam"]);
  assert.equal(result.ok, true);
  assert.deepEqual(JSON.parse(result.output), AMSTERDAM);
  assert.equal(result.text, "Amsterdam, North Holland, Netherlands: 12 °C, light rain");
});

test("a city argument works too", async () => {
  const { tools: t, asked } = tools();
  await runToolCall(t, { callId: "call_1", name: "get_weather", arguments: '{"city":"Oslo","unit":"c"}' });
  assert.deepEqual(asked, ["Oslo"]);
});

test("malformed arguments answer with an error object instead of crashing", async () => {
  const { tools: t, asked } = tools();
  for (const args of ['{"location": "Oslo"', "[1,2]", "null"]) {
    const result = await runToolCall(t, { callId: "call_1", name: "get_weather", arguments: args });
    assert.equal(result.ok, false);
    assert.deepEqual(JSON.parse(result.output), { error: "The tool arguments were not valid JSON." });
  }
  assert.deepEqual(asked, []);
});

test("a missing location, an unknown tool and a failing API become error outputs", async () => {
  const failing = tools(async () => {
    throw new Error("We could not find a place called Atlantis.");
  });
  const results = await runToolCalls(failing.tools, [
    { callId: "a", name: "get_weather", arguments: "{}" },
    { callId: "b", name: "launch_rocket", arguments: "{}" },
    { callId: "c", name: "get_weather", arguments: '{"location":"Atlantis"}' },
    { callId: "d", name: "constructor", arguments: "{}" },
  ]);
  assert.deepEqual(
    results.map((result) => [result.callId, result.ok, JSON.parse(result.output).error]),
    [
      ["a", false, "No location was given for the weather lookup."],
      ["b", false, 'Unknown tool "launch_rocket".'],
      ["c", false, "We could not find a place called Atlantis."],
      ["d", false, 'Unknown tool "constructor".'],
    ],
  );
});

test("a running call is described for the transcript", () => {
  assert.equal(describeCall("get_weather", '{"location":"Oslo"}'), "Checking the weather in Oslo…");
  assert.equal(describeCall("get_weather", '{"loc'), "Checking the weather…");
  assert.equal(describeCall("other", ""), "Running other…");
});
