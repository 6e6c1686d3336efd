// Microphone, mute, the input level meter and the remote audio sink.
import { microphoneMessage } from "./messages.js";

export class MicrophoneError extends Error {
  constructor(cause) {
    super(microphoneMessage(cause));
    this.name = "MicrophoneError";
    this.cause = cause;
  }
}

export async function openMicrophone() {
  if (!globalThis.navigator?.mediaDevices?.getUserMedia) throw new MicrophoneError(new TypeError("no mediaDevices"));
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
  } catch (error) {
    throw new MicrophoneError(error);
  }
}

export function setMuted(stream, muted) {
  for (const track of stream.getAudioTracks()) track.enabled = !muted;
}

export function stopStream(stream) {
  for (const track of stream?.getTracks() || []) track.stop();
}

// Loudness 0..1 from time-domain samples centred on 128 (AnalyserNode byte data).
// RMS is scaled up so normal speech fills most of the bar.
export function levelFromSamples(samples) {
  if (!samples.length) return 0;
  let sum = 0;
  for (const sample of samples) {
    const centred = (sample - 128) / 128;
    sum += centred * centred;
  }
  return Math.min(1, Math.sqrt(sum / samples.length) * 4);
}

// Calls onLevel(0..1) about every animation frame until stop() is called.
export function startLevelMeter(stream, onLevel) {
  const AudioContextClass = globalThis.AudioContext || globalThis.webkitAudioContext;
  if (!AudioContextClass) return () => {};
  const context = new AudioContextClass();
  context.resume().catch(() => {});
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Uint8Array(analyser.fftSize);
  let frame = 0;
  let smoothed = 0;
  const tick = () => {
    analyser.getByteTimeDomainData(samples);
    // Fast attack, slow release: the bar follows speech without flickering.
    const level = levelFromSamples(samples);
    smoothed = level > smoothed ? level : smoothed * 0.85 + level * 0.15;
    onLevel(smoothed);
    frame = requestAnimationFrame(tick);
  };
  tick();
  return () => {
    cancelAnimationFrame(frame);
    context.close().catch(() => {});
    onLevel(0);
  };
}

// Plays the model's audio track through the page's <audio> element.
export function attachRemoteAudio(element, stream) {
  element.srcObject = stream;
  element.play?.().catch(() => {
    // Autoplay can be refused when the click that started the call is too long ago;
    // the element keeps autoplay set and starts on the next user gesture.
  });
}

export function detachRemoteAudio(element) {
  element.pause?.();
  element.srcObject = null;
}
