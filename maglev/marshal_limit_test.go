package maglev_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/maglev"
)

// TestUnmarshal_BackendCountBeforeAllocating: an encoding that claims more
// backends than a table may hold is refused before anything is allocated
// for them. Such a count used to make the decoder allocate a slice of that
// many backends (24 bytes each) from an input of 6 bytes per backend.
func TestUnmarshal_BackendCountBeforeAllocating(t *testing.T) {
	n := uint32(maglev.MaxSize + 1)
	data := []byte("MGLV\x01")
	data = binary.LittleEndian.AppendUint32(data, 65537) // a prime size
	data = binary.LittleEndian.AppendUint64(data, 1)
	data = binary.LittleEndian.AppendUint32(data, n)
	data = append(data, make([]byte, 6*int(n))...) // enough bytes for the old size check
	var tb maglev.Table
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := tb.UnmarshalBinary(data)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, maglev.ErrCorrupt) || !strings.Contains(err.Error(), "at most") {
		t.Fatalf("error %v, want ErrCorrupt naming the limit", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Fatalf("decoding a refused count allocated %d bytes", got)
	}
}

// TestUnmarshal_LargestTables: every table New accepts round-trips, the
// largest encodings included. A table may hold MaxSize backends (drained
// ones beyond the M that own entries) with names of MaxNameLen bytes;
// UnmarshalBinary used to refuse any encoding above 64 MiB, which about
// 258,000 such backends exceed, so MarshalBinary wrote tables it could not
// read back.
func TestUnmarshal_LargestTables(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes 64 MiB")
	}
	const n = (64<<20)/(5+maglev.MaxNameLen) + 1
	pad := strings.Repeat("x", maglev.MaxNameLen-8)
	bs := make([]maglev.Backend, n)
	for i := range bs {
		bs[i] = maglev.Backend{Name: fmt.Sprintf("%08d", i) + pad} // drained
	}
	bs[0].Weight = 1
	tb := maglev.MustNew(maglev.Params{Size: 2, Seed: 1}, bs)
	data, err := tb.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(data) <= 64<<20 {
		t.Fatalf("encoding of %d bytes, want above 64 MiB", len(data))
	}
	var back maglev.Table
	if err := back.UnmarshalBinary(data); err != nil {
		t.Fatalf("%d backends of %d-byte names: %v", n, maglev.MaxNameLen, err)
	}
	if back.Len() != n || back.Backend(n-1) != tb.Backend(n-1) || back.Entry(0) != tb.Entry(0) || back.Entry(1) != tb.Entry(1) {
		t.Fatal("round trip changed the table")
	}
}

// An encoding whose backends are out of order, or name one backend twice,
// is refused with an error naming both names and saying what is accepted,
// not only the position.
func TestUnmarshal_UnsortedBackendsNamed(t *testing.T) {
	enc := func(names ...string) []byte {
		data := []byte("MGLV\x01")
		data = binary.LittleEndian.AppendUint32(data, 13)
		data = binary.LittleEndian.AppendUint64(data, 1)
		data = binary.LittleEndian.AppendUint32(data, uint32(len(names)))
		for _, n := range names {
			data = binary.LittleEndian.AppendUint32(data, 1)
			data = append(data, byte(len(n)))
			data = append(data, n...)
		}
		return data
	}
	var tb maglev.Table
	if err := tb.UnmarshalBinary(enc("a", "b")); err != nil {
		t.Fatalf("sorted backends: %v", err)
	}
	for _, names := range [][]string{{"b", "a"}, {"a", "a"}} {
		err := tb.UnmarshalBinary(enc(names...))
		if !errors.Is(err, maglev.ErrCorrupt) {
			t.Fatalf("backends %q: %v, want ErrCorrupt", names, err)
		}
		for _, w := range []string{fmt.Sprintf("%q", names[0]), fmt.Sprintf("%q", names[1]), "increasing"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("backends %q: error %q does not say %s", names, err, w)
			}
		}
	}
}
