package testserver

// SetPostgresCache turns the in-process caches on (or off) for servers on PostgreSQL started
// after it, and returns the previous setting: for BenchmarkLoadStores, which measures what
// they would win. On is only correct for a single replica.
func SetPostgresCache(on bool) bool {
	old := !pgNoCache
	pgNoCache = !on
	return old
}

// SetPostgresPipeline turns the PostgreSQL group commit and pipelined reads on (or off) for
// servers started after it, and returns the previous setting (BenchmarkLoadStores).
func SetPostgresPipeline(on bool) bool {
	old := pgPipeline
	pgPipeline = on
	return old
}
