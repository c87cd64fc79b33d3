package bpfload

import (
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// FlowKey takes what the kernels write (the key, zero padding, the length
// at byte 40) and refuses a length other than 13 or 37, a short buffer and
// padding that is not zero, naming the byte.
func TestFlowKey(t *testing.T) {
	for _, k := range []flow.Key{
		flow.MustKey("10.0.0.1", "10.0.0.2", 1, 2, flow.ProtoTCP),
		flow.MustKey("2001:db8::1", "2001:db8::2", 1, 2, flow.ProtoUDP),
	} {
		var b [48]byte
		copy(b[:], k.Bytes())
		b[40] = byte(k.Len())
		got, err := FlowKey(b[:])
		if err != nil || got != k {
			t.Fatalf("%v: got %v, %v", k, got, err)
		}
		b[39] = 1
		if _, err := FlowKey(b[:]); err == nil || !strings.Contains(err.Error(), "byte 39 is 0x01") {
			t.Errorf("%v with byte 39 set: %v, want an error naming byte 39", k, err)
		}
	}
	for _, b := range [][]byte{make([]byte, 40), append(make([]byte, 40), 12)} {
		if _, err := FlowKey(b); err == nil {
			t.Errorf("%d bytes, length byte %d: no error", len(b), b[len(b)-1])
		}
	}
}
