// The dashboard's one live connection to `/ws` (implemented by the board/core area).
// Interface used by every page:
//   live.start()                     open (after sign-in); reconnects by itself with `?since=`
//   live.stop()                      close (on sign-out)
//   live.on(type, fn) -> off()       fn(message) for each message of `type` ('*' for all)
//   live.subscribe({resources, availability})  add subscriptions (kept across reconnects)
//   live.status() / live.onStatus(fn)          'connecting' | 'live' | 'offline'
const listeners = new Map();
const statusListeners = new Set();
let state = 'offline';

export const live = {
  start() {},
  stop() {},
  on(type, fn) {
    if (!listeners.has(type)) listeners.set(type, new Set());
    listeners.get(type).add(fn);
    return () => listeners.get(type).delete(fn);
  },
  subscribe() {},
  status: () => state,
  onStatus(fn) {
    statusListeners.add(fn);
    return () => statusListeners.delete(fn);
  },
};
