package intake

import (
	"bytes"
	"testing"
)

func TestTheHandoffGivesEachPayloadOnceWithinItsBytes(t *testing.T) {
	h := newHandoff(100)
	h.put(1, bytes.Repeat([]byte("a"), 30))
	h.put(2, bytes.Repeat([]byte("b"), 30))
	if p, ok := h.take(1); !ok || string(p) != string(bytes.Repeat([]byte("a"), 30)) {
		t.Fatalf("take(1) = %q, %v", p, ok)
	}
	if _, ok := h.take(1); ok {
		t.Error("a payload was taken twice")
	}
	// A generation holds half the budget (50 bytes): 3 moves 2 to the
	// older generation, and 4 drops that one.
	h.put(3, bytes.Repeat([]byte("c"), 30))
	h.put(4, bytes.Repeat([]byte("d"), 30))
	if _, ok := h.take(2); ok {
		t.Error("a payload outlived two generations")
	}
	for _, id := range []int64{3, 4} {
		if _, ok := h.take(id); !ok {
			t.Errorf("payload %d was dropped while within the budget", id)
		}
	}
	h.put(5, bytes.Repeat([]byte("e"), 51))
	if _, ok := h.take(5); ok {
		t.Error("a payload over half the budget was kept")
	}
	var none *handoff
	none.put(6, []byte("f"))
	if _, ok := none.take(6); ok {
		t.Error("a nil handoff held a payload")
	}
}
