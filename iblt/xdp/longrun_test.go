//go:build linux

package xdp

import (
	"fmt"
	"testing"

	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestKernel_RunLongFrame: Run and Bench refuse a frame longer than what a
// test run hands XDP as one linear buffer (bpfload.MaxFrame), with an
// error naming the range. Newer kernels accept such a frame, put the excess
// in fragments the program never sees and digest the first MaxFrame bytes
// with that length as value: Run returned no error and left a digest that
// Digest of the same frame (the whole frame's length) did not equal. Longer
// frames still (80,000 bytes here) came back as the kernel's bare "cannot
// allocate memory".
func TestKernel_RunLongFrame(t *testing.T) {
	o := Options{Cells: 3, Hashes: 3, Seed: 0x5eed}
	k := loadKernel(t, o)
	max := bpfload.MaxFrame()
	ok := pkt.UDP4("10.0.0.1:1234", "10.0.0.2:53", make([]byte, max-42))
	if len(ok) != max {
		t.Fatalf("frame of %d bytes, want %d", len(ok), max)
	}
	if got, want := digestOne(t, k, o, ok); !got.Equal(want) {
		t.Fatalf("%d-byte frame: kernel digest differs from Digest", len(ok))
	}
	for _, n := range []int{max + 1, max + 1000, 80000} {
		frame := pkt.UDP4("10.0.0.1:1234", "10.0.0.2:53", make([]byte, n-42))
		want := fmt.Sprintf("iblt kernel: test run frames must be at most %d bytes (what a test run gives XDP in one buffer), got %d", max, n)
		if err := k.Reset(); err != nil {
			t.Fatal(err)
		}
		_, err := k.Run(frame)
		if err == nil || err.Error() != want {
			msg := fmt.Sprintf("Run on %d bytes: %v, want %q", n, err, want)
			if got, terr := k.Table(); err == nil && terr == nil {
				w, _ := Digest(o, [][]byte{frame})
				msg += fmt.Sprintf(" (kernel digest equals Digest: %v)", got.Equal(w))
			}
			t.Error(msg)
		}
		if _, err := k.Bench(frame, 1); err == nil || err.Error() != want {
			t.Errorf("Bench on %d bytes: %v, want %q", n, err, want)
		}
	}
}
