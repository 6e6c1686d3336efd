// GPT-Live delegation to the Responses backend: function calls arrive as nested
// response.output_item.done events inside response.event envelopes; they run when their
// backend response ends; each result goes back as one response.item.create, then exactly one
// response.create. Backend token usage is counted once per response id. Pure.
import { addItem, closeSegments } from "./live-state.js";
import { post, put, runToolsEffect, send, settleToolResults, toolsRunning } from "./turn-state.js";

const TERMINAL = new Set(["response.completed", "response.failed", "response.incomplete"]);
// response.event for a response our response.create started may carry no delegation id.
const NO_DELEGATION = "";

const putDelegation = (state, id, patch) => ({
  ...state,
  delegations: { ...state.delegations, [id]: { counted: [], usage: null, ...state.delegations[id], ...patch } },
});
const putCall = (state, call) => ({ ...state, calls: { ...state.calls, [call.callId]: call } });

// Field-wise sum of two Responses usage objects (nested details included).
export function addUsage(a, b) {
  if (!a) return b;
  const sum = { ...a };
  for (const [key, value] of Object.entries(b || {})) {
    if (typeof value === "number") sum[key] = (typeof a[key] === "number" ? a[key] : 0) + value;
    else if (value && typeof value === "object") sum[key] = addUsage(a[key] && typeof a[key] === "object" ? a[key] : null, value);
    else if (!(key in sum)) sum[key] = value;
  }
  return sum;
}

export function delegationCreated(state, event) {
  const delegation = event.delegation;
  if (!delegation?.id) return state;
  return putDelegation(state, delegation.id, { target: delegation.target, responseId: delegation.response_id ?? null });
}

export function responseEvent(state, event, now, fx) {
  const inner = event.event || {};
  const delegationId = event.delegation_id ?? NO_DELEGATION;
  if (inner.type === "response.created") {
    const id = inner.response?.id;
    if (!id) return state;
    const next = putDelegation(state, delegationId, { currentResponseId: id });
    return { ...next, responses: { ...next.responses, [id]: { delegationId, done: false } } };
  }
  if (inner.type === "response.output_item.done" && inner.item?.type === "function_call") {
    return noteCall(state, delegationId, inner.item, now, fx);
  }
  if (TERMINAL.has(inner.type)) return responseEnded(state, delegationId, inner.response || {}, now, fx);
  return state;
}

function noteCall(state, delegationId, item, now, fx) {
  if (!item.call_id || state.calls[item.call_id]) return state;
  let next = closeSegments(state, now, fx);
  const delegation = next.delegations[delegationId] || {};
  const call = {
    callId: item.call_id,
    itemId: item.call_id,
    delegationId,
    // The item event names no response: it belongs to the delegation's latest one.
    responseId: delegation.currentResponseId ?? delegation.responseId ?? null,
    name: item.name || "",
    arguments: item.arguments || "",
    state: "pending",
  };
  next = putCall(next, call);
  const fields = { role: "tool", kind: "function_call", name: call.name, callId: call.callId, arguments: call.arguments, status: "pending" };
  next = addItem(next, call.itemId, fields, now);
  if (!delegation.usageItemId) {
    next = putDelegation(next, delegationId, { usageItemId: call.itemId });
    next = attachUsage(next, delegationId, fx);
  }
  return next;
}

function responseEnded(state, delegationId, response, now, fx) {
  let next = state;
  if (response.id) {
    const known = next.responses[response.id] || { delegationId };
    next = { ...next, responses: { ...next.responses, [response.id]: { ...known, done: true, status: response.status } } };
  }
  const delegation = next.delegations[delegationId] || { counted: [] };
  if (response.usage && response.id && !(delegation.counted || []).includes(response.id)) {
    next = putDelegation(next, delegationId, {
      usage: addUsage(delegation.usage, response.usage),
      counted: [...(delegation.counted || []), response.id],
    });
    next = attachUsage(next, delegationId, fx);
  }
  if (response.status === "failed") {
    const detail = response.error?.message;
    fx.push({ type: "error", fatal: false, message: detail ? `The assistant's lookup failed: ${detail}` : "The assistant's lookup failed. Try asking again." });
  }
  const batch = Object.values(next.calls).filter(
    (call) => call.delegationId === delegationId && call.state === "pending" && (call.responseId == null || call.responseId === response.id),
  );
  for (const call of batch) {
    next = putCall(next, { ...call, state: "running" });
    next = put(next, call.itemId, { status: "running" });
  }
  if (batch.length) {
    fx.push(runToolsEffect(batch));
  }
  return next;
}

// The delegation's backend tokens so far travel with its first tool turn (or, without a tool
// call, with the last assistant turn); a turn already posted is posted again (an upsert).
function attachUsage(state, delegationId, fx) {
  const delegation = state.delegations[delegationId];
  if (!delegation?.usage) return state;
  let itemId = delegation.usageItemId;
  if (!itemId) {
    itemId = Object.values(state.items)
      .filter((item) => item.role === "assistant")
      .sort((a, b) => b.position - a.position)[0]?.id;
    if (!itemId) return state;
  }
  const next = put(state, itemId, { usage: delegation.usage });
  return next.items[itemId].postedSignature ? post(next, fx, itemId) : next;
}

// Each output goes to the backend as one response.item.create, then exactly one response.create.
export function toolResults(state, event, now, fx) {
  const sendOutput = (next, call, result) => {
    if (next.ended || next.closing || next.closed) return null;
    const item = { type: "function_call_output", call_id: call.callId, output: result.output };
    return send(next, fx, { type: "response.item.create", item }, "tool");
  };
  const { state: next, sent } = settleToolResults(state, event.results, now, fx, sendOutput);
  return sent && !toolsRunning(next) ? send(next, fx, { type: "response.create" }, "response") : next;
}

// Stop / page hide: calls that never got a result are stored as failed.
export function failRunningCalls(state, now, fx) {
  let next = state;
  for (const call of Object.values(state.calls)) {
    if (call.state !== "running" && call.state !== "pending") continue;
    next = putCall(next, { ...call, state: "done" });
    const output = JSON.stringify({ error: "The conversation ended before the tool finished." });
    next = put(next, call.itemId, { status: "failed", output, endedAt: now });
    next = post(next, fx, call.itemId);
  }
  return next;
}
