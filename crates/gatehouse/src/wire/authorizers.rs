//! The `Authorizer` and `Model` shapes: the stored records, member for member.

use gatehouse_core::model::api_model::Model;
use gatehouse_core::model::authorizer::Authorizer;

use super::ToWire;

impl ToWire for Authorizer {
    type Out<'a> = &'a Authorizer;
    fn to_wire(&self) -> &Authorizer {
        self
    }
}

impl ToWire for Model {
    type Out<'a> = &'a Model;
    fn to_wire(&self) -> &Model {
        self
    }
}
