//! Objects only: serde's derived `Deserialize` for a struct also reads a sequence of its fields in
//! order, so `[]` would read as a `SeededBackup` and `["id", 1, ...]` as a `Backup`. Every model of
//! the API is a JSON object on the wire, so each reads a map and nothing else.
//!
//! Each model derives its serde code with `#[serde(remote = "Self")]`, which makes the derived
//! code inherent functions; [`object_model!`] then implements the traits over them, the
//! deserializer asked for a map.

/// Implements `Serialize` and `Deserialize` for models that derive them with
/// `#[serde(remote = "Self")]`, reading only a JSON object.
macro_rules! object_model {
    ($($model:ident),+ $(,)?) => {$(
        impl serde::Serialize for $model {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                $model::serialize(self, serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $model {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Object;

                impl<'de> serde::de::Visitor<'de> for Object {
                    type Value = $model;

                    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                        f.write_str(concat!("a JSON object (", stringify!($model), ")"))
                    }

                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        map: A,
                    ) -> Result<$model, A::Error> {
                        $model::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    }
                }

                deserializer.deserialize_map(Object)
            }
        }
    )+};
}

pub(crate) use object_model;
