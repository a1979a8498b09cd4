/** Prometheus metrics of a Raft node and its MQTT transport (prom-client). */
export { type MetricsSource, RaftMetrics, type RaftMetricsOptions } from './raft-metrics.js';
