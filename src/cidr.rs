//! IPv4 CIDR blocks: parsing, containment and overlap, for security group and network ACL
//! rules.

/// An IPv4 block: its first address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    base: u32,
    len: u8,
}

impl Block {
    pub fn parse(text: &str) -> Option<Block> {
        let (addr, len) = text.trim().split_once('/')?;
        let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
        let addr: std::net::Ipv4Addr = addr.parse().ok()?;
        let mask = Block::mask(len);
        Some(Block {
            base: u32::from(addr) & mask,
            len,
        })
    }

    fn mask(len: u8) -> u32 {
        if len == 0 { 0 } else { u32::MAX << (32 - len) }
    }

    fn last(&self) -> u32 {
        self.base | !Block::mask(self.len)
    }

    /// Every address of `other` is in `self`.
    pub fn contains(&self, other: &Block) -> bool {
        self.base <= other.base && other.last() <= self.last()
    }

    pub fn overlaps(&self, other: &Block) -> bool {
        self.base <= other.last() && other.base <= self.last()
    }
}

/// `outer` contains `inner` (both CIDR text); `false` when either does not parse.
pub fn contains(outer: &str, inner: &str) -> bool {
    matches!((Block::parse(outer), Block::parse(inner)), (Some(o), Some(i)) if o.contains(&i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containment_and_overlap() {
        assert!(contains("0.0.0.0/0", "10.0.1.0/24"));
        assert!(contains("10.0.0.0/16", "10.0.1.0/24"));
        assert!(!contains("10.0.1.0/24", "10.0.0.0/16"));
        assert!(
            contains("10.0.1.7/24", "10.0.1.0/25"),
            "host bits are ignored"
        );
        assert!(!contains("10.1.0.0/16", "10.0.1.0/24"));
        let a = Block::parse("10.0.0.0/16").unwrap();
        let b = Block::parse("10.0.255.0/23").unwrap();
        assert!(a.overlaps(&b) && !a.contains(&Block::parse("10.0.0.0/8").unwrap()));
        assert!(!Block::parse("10.2.0.0/16").unwrap().overlaps(&a));
        assert_eq!(Block::parse("10.0.0.0/33"), None);
        assert_eq!(Block::parse("nonsense"), None);
        assert!(!contains("pl-123", "10.0.0.0/16"));
    }
}
