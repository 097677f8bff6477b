package dbqueue_test

import (
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/queue"
	"github.com/patchpanda/patchpanda/internal/queue/dbqueue"
	"github.com/patchpanda/patchpanda/internal/queue/queuetest"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		queuetest.Run(t, func(t *testing.T, visibility time.Duration) queue.Queue {
			// Each queue gets its own database: the suite expects an empty one.
			var fresh *store.DB
			if db.Dialect() == store.SQLite {
				fresh = storetest.SQLite(t)
			} else {
				fresh = storetest.Postgres(t)
			}
			q := dbqueue.New(fresh, visibility)
			t.Cleanup(func() { q.Close() })
			return q
		})
	})
}
