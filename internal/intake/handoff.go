package intake

import "sync"

// handoff holds the payloads of deliveries the Recorder has just
// committed, by row id, so that the Processor, claiming them moments
// later, takes them from memory instead of reading each back from the
// database and inflating it. It is only a shortcut: the row stays the
// record, and a delivery the handoff does not hold (dropped to stay within
// its bytes, recorded by another relay, retried, or recorded before a
// restart) is read from its row.
//
// Two generations bound it: when the newer one fills half the budget, the
// older one is dropped and the newer one takes its place, so it holds at
// most max bytes and forgets what the processor never came for. A nil
// *handoff holds nothing.
type handoff struct {
	mu       sync.Mutex
	max      int
	cur, old map[int64][]byte
	curBytes int
}

func newHandoff(maxBytes int) *handoff {
	return &handoff{max: maxBytes, cur: map[int64][]byte{}}
}

// put keeps the payload of the delivery with row id.
func (h *handoff) put(id int64, payload []byte) {
	if h == nil || len(payload) > h.max/2 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.curBytes+len(payload) > h.max/2 {
		h.old, h.cur, h.curBytes = h.cur, make(map[int64][]byte, len(h.cur)), 0
	}
	h.cur[id] = payload
	h.curBytes += len(payload)
}

// take returns and forgets the payload of the delivery with row id, or
// false when it holds none.
func (h *handoff) take(id int64) ([]byte, bool) {
	if h == nil {
		return nil, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.cur[id]; ok {
		delete(h.cur, id)
		h.curBytes -= len(p)
		return p, true
	}
	if p, ok := h.old[id]; ok {
		delete(h.old, id)
		return p, true
	}
	return nil, false
}
