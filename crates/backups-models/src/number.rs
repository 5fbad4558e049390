//! A JSON number that keeps the form it was written in.

use core::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A JSON number as the API sends it for `bytes` and `percentage`: an integer stays an integer
/// and a fraction stays a fraction, so reading and writing a value never changes it
/// (`1024` stays `1024`, `1.5` stays `1.5`).
///
/// A `Number` is always finite: JSON has no NaN or infinity.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Number(Repr);

#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
enum Repr {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

impl Number {
    /// A fractional number; `None` for NaN and the infinities, which JSON cannot carry.
    pub fn from_f64(value: f64) -> Option<Self> {
        value.is_finite().then_some(Self(Repr::Float(value)))
    }

    /// The value as a float (large integers lose precision, as they do in any JSON reader).
    pub fn as_f64(&self) -> f64 {
        match self.0 {
            Repr::Unsigned(v) => v as f64,
            Repr::Signed(v) => v as f64,
            Repr::Float(v) => v,
        }
    }

    /// The value as an unsigned integer, if it was written as one.
    pub fn as_u64(&self) -> Option<u64> {
        match self.0 {
            Repr::Unsigned(v) => Some(v),
            Repr::Signed(_) | Repr::Float(_) => None,
        }
    }

    /// Whether the value was written as an integer.
    pub fn is_integer(&self) -> bool {
        !matches!(self.0, Repr::Float(_))
    }
}

impl From<u64> for Number {
    fn from(value: u64) -> Self {
        Self(Repr::Unsigned(value))
    }
}

impl From<u32> for Number {
    fn from(value: u32) -> Self {
        Self(Repr::Unsigned(value.into()))
    }
}

impl From<i64> for Number {
    fn from(value: i64) -> Self {
        match u64::try_from(value) {
            Ok(unsigned) => Self(Repr::Unsigned(unsigned)),
            Err(_) => Self(Repr::Signed(value)),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Repr::Unsigned(v) => v.fmt(f),
            Repr::Signed(v) => v.fmt(f),
            Repr::Float(v) => v.fmt(f),
        }
    }
}

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Repr::Unsigned(v) => serializer.serialize_u64(v),
            Repr::Signed(v) => serializer.serialize_i64(v),
            Repr::Float(v) => serializer.serialize_f64(v),
        }
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumberVisitor;

        impl Visitor<'_> for NumberVisitor {
            type Value = Number;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON number")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(Repr::Unsigned(v)))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number::from(v))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
                Number::from_f64(v).ok_or_else(|| E::custom("a number must be finite"))
            }
        }

        deserializer.deserialize_any(NumberVisitor)
    }
}
