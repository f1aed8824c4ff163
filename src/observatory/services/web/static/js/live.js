// Live updates: Server-Sent Events from api/stream, falling back to polling while the
// stream is down, and a pause switch. The owner supplies callbacks:
//   onStats(stats)        a stats snapshot from the stream
//   onJobEvent(envelope)  one job event from the stream
//   refresh()             fetch everything again; resolves true when data came back
//   onMode(mode)          "connecting" | "live" | "polling" | "offline" | "paused"

const POLL_MS = 5000;
const OPEN_TIMEOUT_MS = 4000;
const RECONNECT_MS = 15000;
const RESYNC_MS = 30000; // even when live, re-read everything now and then

export class LiveFeed {
  constructor({ onStats, onJobEvent, refresh, onMode }) {
    Object.assign(this, { onStats, onJobEvent, refresh, onMode });
    this.mode = "connecting";
    this.stream = null;
    this.timers = {};
  }

  start() {
    this.connect();
  }

  get paused() {
    return this.mode === "paused";
  }

  toggle() {
    if (this.paused) this.resume();
    else this.pause();
  }

  pause() {
    this.closeStream();
    this.stopPolling();
    this.clearTimer("reconnect");
    this.clearTimer("resync");
    this.setMode("paused");
  }

  resume() {
    this.setMode("connecting");
    this.refresh();
    this.connect();
  }

  setMode(mode) {
    if (this.mode === mode) return;
    this.mode = mode;
    this.onMode(mode);
  }

  clearTimer(name) {
    clearTimeout(this.timers[name]);
    clearInterval(this.timers[name]);
    delete this.timers[name];
  }

  connect() {
    this.closeStream();
    this.clearTimer("reconnect");
    if (typeof EventSource === "undefined") {
      this.startPolling();
      return;
    }
    const stream = new EventSource("api/stream");
    this.stream = stream;
    this.timers.open = setTimeout(() => {
      if (this.mode !== "live" && !this.paused) this.startPolling();
    }, OPEN_TIMEOUT_MS);
    stream.onopen = () => {
      if (this.stream !== stream) return;
      this.clearTimer("open");
      this.stopPolling();
      this.setMode("live");
      this.refresh(); // events may have happened while we were not listening
      this.clearTimer("resync");
      this.timers.resync = setInterval(() => {
        if (!document.hidden) this.refresh();
      }, RESYNC_MS);
    };
    stream.addEventListener("stats", (event) => this.deliver(stream, event, this.onStats));
    stream.addEventListener("job-event", (event) => this.deliver(stream, event, this.onJobEvent));
    stream.onerror = () => {
      if (this.stream !== stream) return;
      this.clearTimer("resync");
      if (stream.readyState === EventSource.CLOSED) {
        // The server refused the stream (e.g. 502): try again later, poll meanwhile.
        this.stream = null;
        this.timers.reconnect = setTimeout(() => this.connect(), RECONNECT_MS);
      }
      this.startPolling();
    };
  }

  deliver(stream, event, handler) {
    if (this.stream !== stream) return;
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return; // not ours to crash on; the next snapshot will do
    }
    handler(data);
  }

  closeStream() {
    this.clearTimer("open");
    if (this.stream) {
      this.stream.close();
      this.stream = null;
    }
  }

  startPolling() {
    if (this.paused || this.timers.poll) return;
    this.setMode("polling");
    this.timers.poll = setInterval(() => this.poll(), POLL_MS);
    this.poll();
  }

  stopPolling() {
    this.clearTimer("poll");
  }

  async poll() {
    if (document.hidden && this.mode === "polling") return;
    const ok = await this.refresh();
    if (this.timers.poll && !this.paused) this.setMode(ok ? "polling" : "offline");
  }
}
