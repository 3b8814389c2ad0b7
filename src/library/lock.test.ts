/** The library's write lock (issue 15): one writer at a time across processes and hosts. */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { LibraryBusyError, LOCK_FILE, STALE_MS, withLibraryLock } from "./lock.js";

const dir = mkdtempSync(join(tmpdir(), "medpolicy-lock-"));
const lock = join(dir, LOCK_FILE);
after(() => rmSync(dir, { recursive: true, force: true }));

const holder = (pid: number, host = hostname(), nonce = "n0") => JSON.stringify({ pid, host, nonce });
const busy = (re: RegExp) => (e: unknown) => e instanceof LibraryBusyError && re.test(e.message);

describe("withLibraryLock", () => {
  it("holds the lock for the write, re-entrantly, and removes it after (also when the write throws)", () => {
    const seen = withLibraryLock(dir, () => {
      const h = JSON.parse(readFileSync(lock, "utf8"));
      assert.deepEqual([h.pid, h.host], [process.pid, hostname()]);
      return withLibraryLock(dir, () => "inner");
    });
    assert.equal(seen, "inner");
    assert.ok(!existsSync(lock));
    assert.throws(() =>
      withLibraryLock(dir, () => {
        throw new Error("boom");
      }),
    );
    assert.ok(!existsSync(lock));
  });

  it("refuses at once while a live process holds it, naming it; nothing runs", () => {
    const child = spawn("sleep", ["30"]);
    try {
      writeFileSync(lock, holder(child.pid!));
      let ran = false;
      assert.throws(
        () =>
          withLibraryLock(dir, () => {
            ran = true;
          }),
        busy(new RegExp(`pid ${child.pid} on `)),
      );
      assert.equal(ran, false);
      assert.ok(existsSync(lock), "the live writer's lock stays");
    } finally {
      child.kill("SIGKILL");
      rmSync(lock, { force: true });
    }
  });

  it("takes over a lock left by a process of this host that is gone", () => {
    writeFileSync(lock, holder(spawnSync("true").pid!));
    assert.equal(
      withLibraryLock(dir, () => 1),
      1,
    );
    assert.ok(!existsSync(lock));
  });

  it("an empty or unreadable lock (a writer between create and write), or another host's, is held until it is old", () => {
    for (const content of ["", "{", holder(1, "another-host")]) {
      writeFileSync(lock, content);
      assert.throws(() => withLibraryLock(dir, () => 0), busy(/being written/), JSON.stringify(content));
      const old = (Date.now() - STALE_MS - 60_000) / 1000;
      utimesSync(lock, old, old);
      assert.equal(
        withLibraryLock(dir, () => 2),
        2,
      );
      assert.ok(!existsSync(lock));
    }
  });

  it("a writer removes only its own lock (one taken over meanwhile stays)", () => {
    withLibraryLock(dir, () => {
      writeFileSync(lock, holder(process.pid, hostname(), "someone-else"));
    });
    assert.ok(existsSync(lock), "another writer's lock is not removed");
    rmSync(lock);
  });
});
