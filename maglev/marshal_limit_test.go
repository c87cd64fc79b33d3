package maglev_test

import (
	"encoding/binary"
	"errors"
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
