package capture_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/dataplane-go/dataplane/capture"
)

// FuzzReader feeds arbitrary bytes to the reader: it must never panic,
// never deliver a packet breaking the Packet invariants, end every input
// with io.EOF or an error of this package, and never allocate more than a
// bounded amount whatever lengths the input claims.
func FuzzReader(f *testing.F) {
	var le order = binary.LittleEndian
	var be order = binary.BigEndian
	pkts := testPackets(3, capture.LinkEthernet)
	var w bytes.Buffer
	capture.Write(&w, pkts)
	f.Add(w.Bytes())                                          // valid pcap, nanosecond
	f.Add(pcapBytes(be, false, 65535, capture.LinkRaw, pkts)) // big-endian, microsecond
	f.Add(w.Bytes()[:w.Len()-7])                              // cut inside the last record
	f.Add([]byte{})                                           // empty
	f.Add([]byte{0xd4, 0xc3, 0xb2})                           // one byte short of a magic number
	huge := bytes.Clone(w.Bytes())
	le.PutUint32(huge[24+8:], 0xffffffff) // absurd captured length
	f.Add(huge)
	ng := append(ngSHB(le), ngIDB(le, capture.LinkEthernet, 9, 0)...)
	ng = append(ng, ngEPB(le, 0, 12345, pkts[0], false)...)
	ng = append(ng, ngBlock(le, 3, []byte{8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8})...)
	f.Add(ng) // pcapng with an enhanced and a simple packet block
	f.Add(append(ngSHB(be), ngIDB(be, capture.LinkRaw, 0x80|30, 5)...))
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(w.Bytes())
	zw.Close()
	f.Add(zb.Bytes()) // gzip
	f.Fuzz(func(t *testing.T, b []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r, err := capture.NewReader(bytes.NewReader(b))
		if err != nil {
			checkErr(t, err)
			return
		}
		buf := make([]byte, 0, 1<<10)
		for i := 0; ; i++ {
			p, err := r.NextInto(buf)
			if err != nil {
				if err != io.EOF {
					checkErr(t, err)
				}
				break
			}
			if len(p.Data) > capture.MaxRecordLen || p.WireLen < len(p.Data) {
				t.Fatalf("packet %d: %d bytes captured, %d on the wire", i+1, len(p.Data), p.WireLen)
			}
			buf = p.Data[:0]
		}
		runtime.ReadMemStats(&after)
		// Buffers (two of 64 KiB), gzip state, one record buffer of at most
		// MaxRecordLen, interface options: well under 2 MiB.
		if d := after.TotalAlloc - before.TotalAlloc; d > 2<<20+uint64(4*len(b)) {
			t.Fatalf("reading %d bytes allocated %d bytes", len(b), d)
		}
	})
}

func checkErr(t *testing.T, err error) {
	t.Helper()
	var re *capture.RecordError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a *capture.RecordError", err, err)
	}
	if err.Error() == "" {
		t.Fatal("empty error message")
	}
}
