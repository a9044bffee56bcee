// Fault injection during scaling (test/fault-harness.ts): the real worker is SIGKILLed right after the first
// container call of a scale up (a new replica started) and of a scale down (a surplus replica removed). A restarted
// worker finishes it once: exactly the new replica count of containers, the kept ones untouched on a scale down,
// all routed, the operation succeeded.
import { describe, it } from "vitest";
import { getDb } from "@/lib/db";
import * as lifecycle from "@/lib/domain/lifecycle";
import {
  assertLifecycleConverges,
  installFaultHarness,
  type LifecycleCase,
  REPLICAS,
  servingApp,
} from "@/test/fault-harness";

installFaultHarness();

const cases: LifecycleCase[] = [
  {
    label: "scale up, after the first new container started",
    killOn: "RUN:1",
    seed: () => servingApp(),
    request: (s) => lifecycle.scaleApp(getDb(), s.ctx, s.app.id, { replicas: REPLICAS + 2 }),
    replicas: REPLICAS + 2,
  },
  {
    label: "scale down, after the first surplus container was removed",
    killOn: "RM:1",
    seed: () => servingApp(REPLICAS + 1),
    request: (s) => lifecycle.scaleApp(getDb(), s.ctx, s.app.id, { replicas: 1 }),
    replicas: 1,
  },
];

describe("a worker killed while scaling", { timeout: 300_000 }, () => {
  it.each(cases.map((c) => [c.label, c] as const))("converges when killed during %s", (_label, c) =>
    assertLifecycleConverges(c),
  );
});
