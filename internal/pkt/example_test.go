package pkt_test

import (
	"fmt"

	"github.com/dataplane-go/dataplane/internal/pkt"
)

func Example() {
	// 10.0.0.1:5353 > 10.0.0.2:53 UDP with a 4-byte payload
	f := pkt.UDP4("10.0.0.1:5353", "10.0.0.2:53", []byte{1, 2, 3, 4})
	fmt.Println(len(f))                 // 14 Ethernet + 20 IPv4 + 8 UDP + 4
	fmt.Println(pkt.Checksum(f[14:34])) // a correct IPv4 header sums to zero
	fmt.Printf("% x\n", f[12:14])       // EtherType
	// Output:
	// 46
	// 0
	// 08 00
}
