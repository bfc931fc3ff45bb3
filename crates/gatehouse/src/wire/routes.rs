//! The `Route` shape: the stored route, member for member
//! (<https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-routes-routeid.html>).

use gatehouse_core::model::route::Route;

use super::ToWire;

impl ToWire for Route {
    type Out<'a> = &'a Route;
    fn to_wire(&self) -> &Route {
        self
    }
}
