//! Fixed-size byte strings that print and parse as hex (identifiers, metadata), defined once by a macro.

/// Defines a `Copy` newtype over `[u8; N]` that prints and parses as hex in the given case.
macro_rules! hex_bytes {
    ($(#[$meta:meta])* $name:ident, $len:expr, $what:literal, $encode:path) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;

            /// Builds it from a slice of exactly the right length.
            pub fn from_slice(bytes: &[u8]) -> Result<Self, $crate::error::Error> {
                <[u8; $len]>::try_from(bytes).map(Self).map_err(|_| {
                    $crate::error::Error::WrongLength { what: $what, expected: $len, found: bytes.len() }
                })
            }

            /// The raw bytes.
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&$encode(self.0))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let bytes = hex::decode(s.trim()).map_err(|e| $crate::error::Error::InvalidHex {
                    what: $what,
                    reason: e.to_string(),
                })?;
                Self::from_slice(&bytes)
            }
        }

        impl From<[u8; $len]> for $name {
            fn from(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }
        }
    };
}

pub(crate) use hex_bytes;
