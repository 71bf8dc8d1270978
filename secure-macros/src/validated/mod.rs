use proc_macro2::TokenStream;

pub(crate) fn expand(input: &syn::DeriveInput) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
