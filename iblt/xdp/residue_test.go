package xdp

import (
	"testing"

	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestLost_ResidueTakenUp: a packet seen upstream and, 4 bytes longer (a
// VLAN tag pushed), downstream leaves a residue of -4 in its cells. Lost's
// doc said that makes listing stall. In a one-cell digest (k = 1, as for
// any k when the lost packet shares all its cells with the other) the lost
// packet's byte count takes the residue up and Lost returns no error.
func TestLost_ResidueTakenUp(t *testing.T) {
	o := Options{Cells: 1, Hashes: 1, Seed: 1}
	same := pkt.UDP4("10.0.0.1:1", "10.0.0.2:53", []byte("a"))
	longer := append(append([]byte(nil), same...), 0, 0, 0, 0) // the same packet, 4 bytes longer
	lostFrame := pkt.UDP4("10.0.0.3:1", "10.0.0.4:53", []byte("b"))
	up, _ := Digest(o, [][]byte{same, lostFrame})
	down, _ := Digest(o, [][]byte{longer})
	lost, extra, err := Lost(up, down)
	if err != nil {
		t.Fatalf("Lost: %v (the residue lies in the lost packet's only cell, so nothing can show it)", err)
	}
	if len(lost) != 1 || len(extra) != 0 {
		t.Fatalf("lost %+v, extra %+v; want one lost packet", lost, extra)
	}
	if want := uint64(len(lostFrame)) - 4; lost[0].Bytes != want {
		t.Fatalf("lost packet of %d bytes listed with %d, want %d (the residue taken up)", len(lostFrame), lost[0].Bytes, want)
	}
}

// TestLost_TwinsTakenUp: two twins lost (one packet key counted twice,
// which cancels in the key sum) and an extra packet downstream in the same
// cells leave a cell that looks like the extra packet alone on the lost
// side: Lost lists it as lost, with twice the twins' length less its own,
// and returns no error, since the table is then that listing's table.
func TestLost_TwinsTakenUp(t *testing.T) {
	o := Options{Cells: 1, Hashes: 1, Seed: 1}
	twin := pkt.UDP4("10.0.0.1:1", "10.0.0.2:53", []byte("a"))
	extraFrame := pkt.UDP4("10.0.0.3:1", "10.0.0.4:53", []byte("bbbb"))
	up, _ := Digest(o, [][]byte{twin, twin})
	down, _ := Digest(o, [][]byte{extraFrame})
	lost, extra, err := Lost(up, down)
	if err != nil {
		t.Fatalf("Lost: %v", err)
	}
	if len(lost) != 1 || len(extra) != 0 || lost[0].Bytes != uint64(2*len(twin)-len(extraFrame)) {
		t.Fatalf("lost %+v, extra %+v; want the extra packet listed as lost with %d bytes", lost, extra, 2*len(twin)-len(extraFrame))
	}
}
