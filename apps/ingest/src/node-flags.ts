/**
 * The Node.js flags the ingest is started with, wherever it runs (Dockerfile, compose, Kubernetes, the
 * local stack, `pnpm start`, the benchmarks; infra's tests check the files carry them).
 *
 * `--max-semi-space-size=32` (MB; Node 20's default is 16): a batch request's parsed and normalised
 * events, and its jobs, live until Redis acknowledges them, so with ten 100-event batches in flight each
 * scavenge of a 16 MB young generation copied several MB of survivors. Twice the semi-space halves the
 * scavenges (355 to 180 in 11 s) and the ingest's CPU per batched event (49–52 to 44–48 µs at 16,000
 * events/s); single-event requests are unchanged. It costs up to 32 MB more memory under load. The
 * flag has to be on the command line: set from inside the process (`v8.setFlagsFromString`) it did not
 * change the scavenge count (apps/ingest README, "Performance (issue 20)", third round).
 */
export const INGEST_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32']
