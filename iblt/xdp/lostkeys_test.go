package xdp

import (
	"errors"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/iblt"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestLost_KeyNotAPacketKey: a listed key that ParseKey rejects (here a
// length byte of 99, which no kernel writes) is left out of the lists, and
// the error says so without hiding the listing's own error. Lost used to
// return at the first such key: the packets after it were dropped, and a
// stalled listing's error no longer matched iblt.ErrDecodeIncomplete.
func TestLost_KeyNotAPacketKey(t *testing.T) {
	o := Options{Cells: 300, Hashes: 3, Seed: 1}
	var bad [KeyLen]byte
	bad[0], bad[37] = 1, 99
	// 10.0.0.1:1 > 10.0.0.2:53 udp and 10.0.0.3:1 > 10.0.0.4:53 udp, both lost
	frames := [][]byte{pkt.UDP4("10.0.0.1:1", "10.0.0.2:53", []byte("a")), pkt.UDP4("10.0.0.3:1", "10.0.0.4:53", []byte("b"))}

	up, _ := Digest(o, frames)
	if err := up.Insert(bad[:], 7); err != nil {
		t.Fatal(err)
	}
	down, _ := Digest(o, nil)
	lost, extra, err := Lost(up, down)
	if err == nil || !strings.Contains(err.Error(), "not a packet key") || errors.Is(err, iblt.ErrDecodeIncomplete) {
		t.Errorf("complete listing with one foreign key: err %v, want one naming the key that is not a packet key", err)
	}
	if len(lost) != 2 || len(extra) != 0 {
		t.Errorf("complete listing with one foreign key: lost %+v, extra %+v; want the two packets lost", lost, extra)
	}

	// The same with a twin (one packet inserted twice, count 2 in its
	// cells) that stalls the listing after the rest is peeled.
	if !Insert(up, frames[0]) {
		t.Fatal("frame not inserted")
	}
	lost, _, err = Lost(up, down)
	if !errors.Is(err, iblt.ErrDecodeIncomplete) || !strings.Contains(err.Error(), "not a packet key") {
		t.Errorf("stalled listing with one foreign key: err %v, want ErrDecodeIncomplete and the foreign key named", err)
	}
	if len(lost) != 1 {
		t.Errorf("stalled listing: lost %+v, want the packet that is not a twin", lost)
	}
}
