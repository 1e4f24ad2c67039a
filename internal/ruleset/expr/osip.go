package expr

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// network is one IP-list entry of a rule's <srcip> or <dstip>.
type network struct {
	prefix netip.Prefix
	any    bool // "any": every address
	invert bool // the entry started with "!"
}

// parseNetwork reads "[!]address[/bits]", "[!]a.b.c.d/a.b.c.d" or
// "[!]any". IPv4-mapped IPv6 addresses compare as IPv4. This follows
// Wazuh's validate.c for one entry; several <srcip> elements form a list
// that matches when any entry does, which is the caller's to combine.
func parseNetwork(s string) (*network, error) {
	n := &network{}
	v := s
	if strings.HasPrefix(v, "!") {
		n.invert = true
		v = v[1:]
	}
	if v == "any" {
		n.any = true
		return n, nil
	}
	addrPart, maskPart, hasMask := strings.Cut(v, "/")
	addr, err := netip.ParseAddr(addrPart)
	if err != nil {
		return nil, fmt.Errorf("ip %q: %w", s, err)
	}
	addr = addr.Unmap()
	bits := addr.BitLen()
	if hasMask {
		if b, err := strconv.Atoi(maskPart); err == nil && len(maskPart) <= 3 {
			bits = b
		} else if m, err := netip.ParseAddr(maskPart); err == nil && m.Is4() && addr.Is4() {
			bits = maskBits(m)
			if bits < 0 {
				return nil, fmt.Errorf("ip %q: netmask %s is not contiguous", s, maskPart)
			}
		} else {
			return nil, fmt.Errorf("ip %q: bad prefix %q", s, maskPart)
		}
	}
	p, err := addr.Prefix(bits)
	if err != nil || bits > addr.BitLen() || bits < 0 {
		return nil, fmt.Errorf("ip %q: prefix length %d out of range", s, bits)
	}
	n.prefix = p
	return n, nil
}

// maskBits returns the prefix length of a contiguous IPv4 netmask, or -1.
func maskBits(m netip.Addr) int {
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for v&0x80000000 != 0 {
		n++
		v <<= 1
	}
	if v != 0 {
		return -1
	}
	return n
}

// contains reports whether the address s (which may carry a /suffix, then
// ignored) is in the network, inverted for a "!" entry. A subject that is
// not an address never matches, whatever the "!".
func (n *network) contains(s string) bool {
	s, _, _ = strings.Cut(s, "/")
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	if n.any {
		return !n.invert
	}
	if addr.Is4() != n.prefix.Addr().Is4() {
		return n.invert
	}
	return n.prefix.Contains(addr) != n.invert
}
