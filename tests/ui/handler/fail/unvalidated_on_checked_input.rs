// `unvalidated(..)` naming a parameter that is validated already: the declaration would put a
// false UNVALIDATED row in the policy table.
use secure_core::prelude::*;
use secure_core::secure_handler;

#[derive(serde::Deserialize, Validated)]
struct Search {
    #[validate(length(max = 50))]
    q: String,
}

#[secure_handler(public, unvalidated(search, reason = "copied from another handler"))]
async fn find(search: Valid<Query<Search>>) -> String {
    search.q.clone()
}

fn main() {}
