package xdp

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// FuzzDecodeEvent: decodeEvent never panics on a ring-buffer record of any
// length or content, refuses records shorter than struct flow_event, and
// for a parsed frame refuses keys of neither length and returns exactly
// the record's key.
func FuzzDecodeEvent(f *testing.F) {
	k := flow.KeyFrom4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1234, 80, flow.ProtoTCP)
	rec := make([]byte, eventSize)
	copy(rec, k.Bytes())
	rec[40] = byte(k.Len())
	binary.NativeEndian.PutUint16(rec[48:], 14)
	binary.NativeEndian.PutUint16(rec[50:], 34)
	binary.NativeEndian.PutUint64(rec[64:], 0x1122334455667788)
	binary.NativeEndian.PutUint32(rec[76:], 60)
	f.Add(rec)
	f.Add(rec[:eventSize-1])
	bad := bytes.Clone(rec)
	bad[40] = 200 // a key length past the key field
	f.Add(bad)
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEvent(b)
		if err != nil {
			return
		}
		if len(b) < eventSize {
			t.Fatalf("accepted a %d-byte record", len(b))
		}
		ne := binary.NativeEndian
		if e.Hash != ne.Uint64(b[64:]) || e.FrameLen != int(ne.Uint32(b[76:])) || e.Outcome != flow.Outcome(ne.Uint32(b[72:])) {
			t.Fatalf("event %+v from record %x", e, b[:eventSize])
		}
		if e.Outcome != flow.OutcomeOK {
			return
		}
		if n := e.Info.Key.Len(); n != int(b[40]) || !bytes.Equal(e.Info.Key.Bytes(), b[:n]) {
			t.Fatalf("key %v from length byte %d and bytes %x", e.Info.Key, b[40], b[:40])
		}
	})
}
