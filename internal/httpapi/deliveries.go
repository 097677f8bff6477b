package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// DeliveryService lists recorded webhook deliveries and retries failed
// ones.
type DeliveryService interface {
	List(ctx context.Context, state string, before int64, limit int) ([]patchpanda.Delivery, error)
	Retry(ctx context.Context, id int64, actor string) (patchpanda.Delivery, error)
}

// DeliveryList answers GET /api/admin/deliveries. Next, when set, is the
// before= value of the next page.
type DeliveryList struct {
	Deliveries []patchpanda.Delivery `json:"deliveries"`
	Next       string                `json:"next,omitempty"`
}

// DeliveryRoutes serves the deliveries API (admin scope) over svc.
func DeliveryRoutes(svc DeliveryService) func(*http.ServeMux, *Server) {
	return func(mux *http.ServeMux, s *Server) {
		mux.Handle("GET /api/admin/deliveries", s.Require(patchpanda.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			var before int64
			limit := 100
			if v := q.Get("before"); v != "" {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n <= 0 {
					return patchpanda.Errorf(patchpanda.EINVALID, "before %q is not a delivery id", v)
				}
				before = n
			}
			if v := q.Get("limit"); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > 500 {
					return patchpanda.Errorf(patchpanda.EINVALID, "limit %q is not a number from 1 to 500", v)
				}
				limit = n
			}
			ds, err := svc.List(r.Context(), q.Get("state"), before, limit)
			if err != nil {
				return err
			}
			out := DeliveryList{Deliveries: ds}
			if out.Deliveries == nil {
				out.Deliveries = []patchpanda.Delivery{}
			}
			if len(ds) == limit {
				out.Next = strconv.FormatInt(ds[len(ds)-1].ID, 10)
			}
			writeJSON(w, http.StatusOK, out)
			return nil
		}))
		mux.Handle("POST /api/admin/deliveries/{id}/retry", s.Require(patchpanda.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) error {
			id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
			if err != nil || id <= 0 {
				return patchpanda.Errorf(patchpanda.EINVALID, "delivery %q is not a delivery id (the number ppctl deliveries list shows)", r.PathValue("id"))
			}
			d, err := svc.Retry(r.Context(), id, actor(r))
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, d)
			return nil
		}))
	}
}

// Deliveries lists one page of recorded deliveries, newest first.
func (c *Client) Deliveries(ctx context.Context, state string, before int64, limit int) (DeliveryList, error) {
	q := url.Values{}
	if state != "" {
		q.Set("state", state)
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out DeliveryList
	err := c.Do(ctx, http.MethodGet, "/api/admin/deliveries", q, nil, &out)
	return out, err
}

// RetryDelivery puts a failed delivery back to be processed.
func (c *Client) RetryDelivery(ctx context.Context, id int64) (patchpanda.Delivery, error) {
	var out patchpanda.Delivery
	err := c.Do(ctx, http.MethodPost, "/api/admin/deliveries/"+strconv.FormatInt(id, 10)+"/retry", nil, nil, &out)
	return out, err
}
