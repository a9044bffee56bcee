// Fault injection during stop, start and restart (test/fault-harness.ts): the real worker is SIGKILLed right after
// the first container call of the action. A restarted worker finishes it once: the operation succeeds, the app has
// exactly the desired containers (none of the old ones after a restart), Caddy routes exactly those (no route when
// stopped), and no container is left over. Scaling is in fault-injection-scale.test.ts (run in parallel).
import { describe, it } from "vitest";
import { getDb } from "@/lib/db";
import * as lifecycle from "@/lib/domain/lifecycle";
import {
  assertLifecycleConverges,
  installFaultHarness,
  type LifecycleCase,
  REPLICAS,
  servingApp,
  stoppedApp,
} from "@/test/fault-harness";

installFaultHarness();

const cases: LifecycleCase[] = [
  {
    label: "stop, after the first container was removed",
    killOn: "RM:1",
    seed: () => servingApp(),
    request: (s) => lifecycle.stopApp(getDb(), s.ctx, s.app.id),
    replicas: 0,
  },
  {
    label: "start, after the first container started",
    killOn: "RUN:1",
    seed: stoppedApp,
    request: (s) => lifecycle.startApp(getDb(), s.ctx, s.app.id),
    replicas: REPLICAS,
  },
  {
    label: "restart, after the first new container started",
    killOn: "RUN:1",
    seed: () => servingApp(),
    request: (s) => lifecycle.restartApp(getDb(), s.ctx, s.app.id),
    replicas: REPLICAS,
  },
];

describe("a worker killed during a lifecycle action", { timeout: 300_000 }, () => {
  it.each(cases.map((c) => [c.label, c] as const))("converges when killed during %s", (_label, c) =>
    assertLifecycleConverges(c),
  );
});
