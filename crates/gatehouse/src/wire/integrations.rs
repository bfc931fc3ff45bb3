//! The `Integration` shape: the stored integration, member for member
//! (<https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-integrations-integrationid.html>).

use gatehouse_core::model::integration::Integration;

use super::ToWire;

impl ToWire for Integration {
    type Out<'a> = &'a Integration;
    fn to_wire(&self) -> &Integration {
        self
    }
}
