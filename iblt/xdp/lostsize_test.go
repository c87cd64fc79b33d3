package xdp

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/iblt"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestLost_IncompleteSaysOptionsFor: more losses than the digest was sized
// for leave the listing incomplete, and the error, still wrapping
// iblt.ErrDecodeIncomplete, tells an iblt/xdp user how to size the digest:
// with OptionsFor, for the number of lost packets that the two kernels'
// counts of inserted packets give. It used to say only what package iblt
// says, to size with ParamsFor for what an Estimator estimates.
func TestLost_IncompleteSaysOptionsFor(t *testing.T) {
	o, err := OptionsFor(5, 0.99, 1)
	if err != nil {
		t.Fatal(err)
	}
	var sent [][]byte
	for i := range 200 {
		// 10.0.0.1:<1000+i> > 10.0.0.2:53 udp "query"
		sent = append(sent, pkt.UDP4("10.0.0.1:"+strconv.Itoa(1000+i), "10.0.0.2:53", []byte("query")))
	}
	up, _ := Digest(o, sent)
	down, _ := Digest(o, sent[100:]) // 100 lost, for a digest sized for 5
	_, _, err = Lost(up, down)
	if !errors.Is(err, iblt.ErrDecodeIncomplete) {
		t.Fatalf("100 losses in a digest for 5: err %v, want ErrDecodeIncomplete", err)
	}
	for _, want := range []string{"OptionsFor", "Stats().Outcomes[flow.OutcomeOK]", "upstream", "downstream", "in flight at each flip", "twice that for two periods merged"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// A complete listing's error stays nil.
	if lost, _, err := Lost(up, up); err != nil || len(lost) != 0 {
		t.Errorf("Lost(up, up) = %d lost, %v", len(lost), err)
	}
}
