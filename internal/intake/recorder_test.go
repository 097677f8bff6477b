package intake_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"

	"github.com/patchpanda/patchpanda/internal/intake"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

// A Record after Run returned must answer EUNAVAILABLE at once: before the
// fix a random select could queue it where nobody reads, and it hung.
func TestRecordAfterRunReturnedIsUnavailable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rec := intake.NewRecorder(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan struct{})
		go func() { rec.Run(ctx); close(ran) }()
		if isNew, err := rec.Record(context.Background(), &patchpanda.Delivery{AppID: 1, DeliveryID: "before", Event: "ping", Payload: []byte(`{}`)}); err != nil || !isNew {
			t.Fatalf("Record before stop = %v, %v; want true, nil", isNew, err)
		}
		cancel()
		<-ran

		var wg sync.WaitGroup
		errs := make([]error, 50)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// No deadline on the context: a hang fails the test by its timeout.
				_, errs[i] = rec.Record(context.Background(), &patchpanda.Delivery{AppID: 1, DeliveryID: "after-" + strconv.Itoa(i), Event: "ping", Payload: []byte(`{}`)})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if patchpanda.ErrorCode(err) != patchpanda.EUNAVAILABLE {
				t.Errorf("call %d after Run returned: err = %v; want EUNAVAILABLE", i, err)
			}
		}
	})
}
