import Metrics

/// The counters every stage exposes on `/metrics`.
struct StageMetrics {
    let consumed: Counter
    let processed: Counter
    let duplicates: Counter
    let skipped: Counter
    let retried: Counter
    let deadLettered: Counter
    let published: Counter
    let batchDuration: Metrics.Timer
    let lag: Gauge
    let dbCommits: Counter

    init(stage: String) {
        let dimensions = [("stage", stage)]
        consumed = Counter(label: "oms_messages_consumed_total", dimensions: dimensions)
        processed = Counter(label: "oms_messages_processed_total", dimensions: dimensions)
        duplicates = Counter(label: "oms_messages_duplicate_total", dimensions: dimensions)
        skipped = Counter(label: "oms_messages_skipped_total", dimensions: dimensions)
        retried = Counter(label: "oms_batch_retries_total", dimensions: dimensions)
        deadLettered = Counter(label: "oms_messages_dead_lettered_total", dimensions: dimensions)
        published = Counter(label: "oms_events_published_total", dimensions: dimensions)
        batchDuration = Metrics.Timer(label: "oms_batch_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
        lag = Gauge(label: "oms_consumer_lag_messages", dimensions: dimensions)
        dbCommits = Counter(label: "oms_db_commits_total", dimensions: dimensions)
    }
}
