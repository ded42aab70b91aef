/**
 * Read epochs: how often an in-memory cache of database rows asks the database whether another
 * process changed them (storage/sqlite/row-cache.ts). Asking costs about as much as reading the row
 * again, so a cache asks at most once per epoch.
 *
 * A new epoch starts with every batch of requests the server receives (beginReadEpoch, called by the
 * HTTP listener when it starts the requests that arrived in one turn of the event loop, after the last
 * of them arrived) and every task a background worker starts, so whatever another process committed
 * before a request arrived is seen by that request. Without either, an epoch still ends with the turn of the
 * event loop in which it was first used (a setImmediate), so no cached answer outlives the turn it was
 * checked in.
 */
let epoch = 0;
let ending = false;

function endEpoch(): void {
  epoch++;
  ending = false;
}

/** Start a new epoch: the next cached read checks the database again. */
export function beginReadEpoch(): void {
  epoch++;
}

/** The current epoch; using it arranges for it to end with this turn of the event loop. */
export function currentReadEpoch(): number {
  if (!ending) {
    ending = true;
    setImmediate(endEpoch);
  }
  return epoch;
}
