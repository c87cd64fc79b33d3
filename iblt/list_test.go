package iblt

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestList_BesideError pins what the docs of List say about the entries
// returned beside ErrDecodeIncomplete: exact for a table built by Insert
// alone; in general unverifiable, with genuine keys but possibly a wrong
// value or side (the audit's two one-word corruptions).
func TestList_BesideError(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	// Overloaded, insert only: listing stalls, but what it lists is exact.
	p := Params{Cells: 120, Hashes: 3, KeyLen: 13, Seed: 43}
	tb := MustNew(p)
	want := map[string]uint64{}
	for i, key := range randKeys(rng, 110, 13) {
		want[string(key)] = uint64(i)
		tb.Insert(key, uint64(i))
	}
	ins, del, err := tb.List()
	if !errors.Is(err, ErrDecodeIncomplete) || len(ins) == 0 || len(del) != 0 {
		t.Fatalf("overloaded table: listed %d+%d, err %v; want some inserted entries and ErrDecodeIncomplete", len(ins), len(del), err)
	}
	for _, e := range ins {
		if v, ok := want[string(e.Key)]; !ok || v != e.Value {
			t.Errorf("overloaded table: listed %x=%d beside the error, not an inserted entry", e.Key, e.Value)
		}
	}

	// One entry, one corrupted word: the key is right, value or side not.
	key := []byte("0123456789abc")
	for _, c := range []struct {
		name      string
		word      int
		mask      uint64
		ins, del  int
		wantValue uint64
	}{
		{"value bit", wValue, 1, 1, 0, 101},
		{"count sign", wCount, ^uint64(1), 0, 1, 1<<64 - 100},
	} {
		tb := MustNew(Params{Cells: 30, Hashes: 3, KeyLen: 13, Seed: 5})
		tb.Insert(key, 100)
		var ci int
		for ci = 0; tb.cells[ci*tb.stride+wCount] != 1; ci++ {
		}
		tb.cells[ci*tb.stride+c.word] ^= c.mask
		ins, del, err := tb.List()
		if !errors.Is(err, ErrDecodeIncomplete) || len(ins) != c.ins || len(del) != c.del {
			t.Fatalf("%s: listed %d+%d, err %v; want %d+%d and ErrDecodeIncomplete", c.name, len(ins), len(del), err, c.ins, c.del)
		}
		e := append(ins, del...)[0]
		if string(e.Key) != string(key) || e.Value != c.wantValue {
			t.Errorf("%s: listed %q=%d, want the genuine key with the unverifiable value %d", c.name, e.Key, e.Value, c.wantValue)
		}
	}
}

// TestList_IncompleteSaysWhy: the error of a table holding more entries
// than it lists points to the sizing helpers.
func TestList_IncompleteSaysWhy(t *testing.T) {
	p, err := ParamsFor(10, 8, 0.99, 1)
	if err != nil {
		t.Fatal(err)
	}
	tab := MustNew(p)
	for i := range 100 {
		if err := tab.Insert([]byte(fmt.Sprintf("%08d", i)), 1); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err = tab.List()
	if !errors.Is(err, ErrDecodeIncomplete) {
		t.Fatalf("List: %v, want ErrDecodeIncomplete", err)
	}
	for _, want := range []string{"more entries than the table lists", "ParamsFor", "Estimator"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("List: %q, want it to contain %q", err, want)
		}
	}
}
