// Both reducers ignore what they do not know, including event types that happen to be the names
// of built-in object properties (a server or a bug may send any string).
import assert from "node:assert/strict";
import { test } from "node:test";

import * as live from "../../static/js/live-reducer.js";
import * as realtime from "../../static/js/realtime-reducer.js";

for (const [name, reducer] of Object.entries({ realtime, live })) {
  test(`the ${name} reducer leaves the state alone for unknown event types`, () => {
    const state = reducer.initialState({ session: 1 });
    for (const type of ["toString", "constructor", "__proto__", "hasOwnProperty", "no.such.event", undefined]) {
      const { state: next, effects } = reducer.reduce(state, { type }, 1_000);
      assert.equal(next, state, `type ${String(type)}`);
      assert.deepEqual(effects, []);
    }
    assert.deepEqual(reducer.reduce(state, null, 1_000), { state, effects: [] });
  });
}
