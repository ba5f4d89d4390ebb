package testserver

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The PostgreSQL group commit: what the SQLite store gets from its single writer, here from
// pipelining. Concurrent single-statement writes (registrations, issued tokens, sessions:
// batch with multi false) queue on a channel; a sender takes everything queued (up to
// pgPipeMax) and sends it as one pgx batch, which PostgreSQL runs as one implicit
// transaction — one round trip and one commit for the lot. Each caller gets its statement's
// result only after the commit. If PostgreSQL refuses a statement (the whole batch is then
// rolled back), every statement of the batch runs again alone, so that one bad statement
// fails alone. Point reads outside a transaction (client, token, session, device by user
// code) are pipelined the same way, without the transaction.

// pgPipeMax is the most statements sent in one batch.
const pgPipeMax = 128

// pgWriters is how many write batches may be in flight at once, pgReaders how many read
// batches. One of each: what arrives while a batch is out waits for the next, so that each
// round trip (and, for writes, each commit: a WAL flush) carries more. With four writers,
// batches held 4.5 writes on average and PostgreSQL's CPU time per registration was a third
// higher (BenchmarkLoadStores, 40000 registrations: 8700 commits with four writers, 2900 with
// one). Readers matter most with several replicas, each batching only its own requests: client
// credentials on two replicas went from 0.29x to 0.34x the baseline with one reader instead of
// four (one replica: 0.37x either way).
const (
	pgWriters = 1
	pgReaders = 1
)

// pgJob is one statement of a batch: an Exec (scan nil) or a one-row query.
type pgJob struct {
	sql  string
	args []any
	scan func(pgx.Row) error // a read: consumes the row (in the sender's goroutine)
	n    int64
	err  error
	done chan struct{}
}

type pgPipe struct {
	pool         *pgxpool.Pool
	writes       chan *pgJob
	reads        chan *pgJob
	mu           sync.RWMutex
	closed       bool
	stop         chan struct{}
	wg           sync.WaitGroup
	transactions bool // writes: one implicit transaction per batch, one-by-one on refusal
}

func newPGPipe(pool *pgxpool.Pool) *pgPipe {
	p := &pgPipe{pool: pool, writes: make(chan *pgJob, 1024), reads: make(chan *pgJob, 1024), stop: make(chan struct{})}
	p.wg.Add(pgWriters + pgReaders)
	for range pgWriters {
		go p.sender(p.writes, true)
	}
	for range pgReaders {
		go p.sender(p.reads, false)
	}
	return p
}

func (p *pgPipe) close() {
	p.mu.Lock()
	already := p.closed
	p.closed = true
	p.mu.Unlock()
	if !already {
		close(p.stop)
		p.wg.Wait()
	}
}

// do queues j and waits for its result.
func (p *pgPipe) do(ch chan *pgJob, j *pgJob) error {
	j.done = make(chan struct{})
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		return &unavailableError{errStoreClosed}
	}
	ch <- j
	p.mu.RUnlock()
	<-j.done
	return j.err
}

func (p *pgPipe) exec(sql string, args ...any) (int64, error) {
	j := &pgJob{sql: sql, args: args}
	err := p.do(p.writes, j)
	return j.n, err
}

func (p *pgPipe) query(scan func(pgx.Row) error, sql string, args ...any) error {
	return p.do(p.reads, &pgJob{sql: sql, args: args, scan: scan})
}

func (p *pgPipe) sender(ch chan *pgJob, write bool) {
	defer p.wg.Done()
	for {
		var batch []*pgJob
		select {
		case j := <-ch:
			batch = append(batch, j)
		case <-p.stop:
			// Nobody can queue any more (closed is set); finish what is queued.
			for {
				select {
				case j := <-ch:
					p.run([]*pgJob{j}, write)
				default:
					return
				}
			}
		}
		// Let the handlers about to write queue theirs too (as the SQLite writer does).
		runtime.Gosched()
	more:
		for len(batch) < pgPipeMax {
			select {
			case j := <-ch:
				batch = append(batch, j)
			default:
				break more
			}
		}
		p.run(batch, write)
	}
}

// run sends one batch and answers its jobs.
func (p *pgPipe) run(batch []*pgJob, write bool) {
	defer func() {
		for _, j := range batch {
			close(j.done)
		}
	}()
	ctx, cancel := op(context.Background())
	defer cancel()
	err := p.send(ctx, batch)
	var pe *pgconn.PgError
	if !write || len(batch) == 1 || !errors.As(err, &pe) {
		for _, j := range batch {
			if j.err == nil {
				j.err = err
			}
			if write {
				j.err = pgFault2(j.err)
			}
		}
		return
	}
	// PostgreSQL refused a statement and rolled the batch back: each alone.
	for _, j := range batch {
		j.n, j.err = 0, nil
		j.err = pgFault2(p.send(ctx, []*pgJob{j}))
	}
}

// send runs the batch; j.n and j.err hold each statement's result, the error is the batch's
// (its first statement error, or the commit's).
func (p *pgPipe) send(ctx context.Context, batch []*pgJob) error {
	b := &pgx.Batch{}
	for _, j := range batch {
		b.Queue(j.sql, j.args...)
	}
	br := p.pool.SendBatch(ctx, b)
	var first error
	for _, j := range batch {
		if j.scan != nil {
			j.err = j.scan(br.QueryRow())
			if j.err != nil && !errors.Is(j.err, pgx.ErrNoRows) && first == nil {
				first = j.err
			}
			continue
		}
		tag, err := br.Exec()
		j.n, j.err = tag.RowsAffected(), err
		if err != nil && first == nil {
			first = err
		}
	}
	if err := br.Close(); err != nil && first == nil {
		first = err
	}
	return first
}

// pipeQuerier is the querier of a single-statement batch: its Exec joins the next group
// commit. (Single-statement fns do not read; a read goes to the pool.)
type pipeQuerier struct{ p *pgPipe }

func (q pipeQuerier) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	n, err := q.p.exec(sql, args...)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	return pgconn.NewCommandTag("UPDATE " + strconv.FormatInt(n, 10)), nil
}

func (q pipeQuerier) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return q.p.pool.QueryRow(ctx, sql, args...)
}
