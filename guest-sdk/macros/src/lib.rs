//! Attribute macros of `cloudexec-sdk`: `#[function]` and `#[bin]`.
//!
//! Use them through `cloudexec_sdk::{function, bin}`, whose docs describe them. Each
//! expands, in the guest crate, to a `wit_bindgen::generate!` of its world that maps
//! every shared interface onto the SDK's bindings with `with`, so only the export glue
//! (and, for a bin, the types-only `manifest-types`) is generated in the guest.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Expr, FnArg, ItemFn, ReturnType};

/// The guest ABI, embedded so that guests need no WIT files of their own.
const WIT: &str = include_str!("../../wit/runtime.wit");

/// Export a `fn(I) -> Result<O, E>` as the `function` world's `handle`.
///
/// See `cloudexec_sdk::function`.
#[proc_macro_attribute]
pub fn function(attr: TokenStream, item: TokenStream) -> TokenStream {
    into_output(expand_function(attr.into(), item.into()))
}

/// Export a `fn(Updates) -> Result<(), E>` as the `bin` world's `run`, and the
/// `manifest = EXPR` as its `manifest`.
///
/// See `cloudexec_sdk::bin`.
#[proc_macro_attribute]
pub fn bin(attr: TokenStream, item: TokenStream) -> TokenStream {
    into_output(expand_bin(attr.into(), item.into()))
}

fn into_output(result: syn::Result<TokenStream2>) -> TokenStream {
    result.unwrap_or_else(syn::Error::into_compile_error).into()
}

fn expand_function(attr: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    if !attr.is_empty() {
        return Err(syn::Error::new(attr.span(), "#[function] takes no arguments"));
    }
    let func: ItemFn = syn::parse2(item)?;
    check_signature(&func, "#[function]")?;
    let ident = &func.sig.ident;
    let bindings = generate("function", quote!());
    Ok(quote! {
        #func

        #[doc(hidden)]
        #[allow(unsafe_code, missing_docs, missing_debug_implementations, clippy::all)]
        mod __cloudexec_guest {
            #bindings

            struct Export;

            impl Guest for Export {
                fn handle(
                    input: ::cloudexec_sdk::__private::Value,
                ) -> ::core::result::Result<
                    ::cloudexec_sdk::__private::Value,
                    ::cloudexec_sdk::__private::WitError,
                > {
                    ::cloudexec_sdk::__private::handle(input, super::#ident)
                }
            }

            export!(Export);
        }
    })
}

fn expand_bin(attr: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let manifest = parse_manifest_arg(attr)?;
    let func: ItemFn = syn::parse2(item)?;
    check_signature(&func, "#[bin]")?;
    let ident = &func.sig.ident;
    let bindings = generate("bin", quote!("cloudexec:runtime/manifest-types@0.1.0": generate,));
    let manifest_fn = manifest_fn();
    Ok(quote! {
        #func

        #[doc(hidden)]
        const __CLOUDEXEC_MANIFEST: &'static ::cloudexec_sdk::Manifest = &(#manifest);

        #[doc(hidden)]
        #[allow(unsafe_code, missing_docs, missing_debug_implementations, clippy::all)]
        mod __cloudexec_guest {
            #bindings

            struct Export;

            impl Guest for Export {
                #manifest_fn

                fn run(
                    updates: ::std::vec::Vec<::cloudexec_sdk::__private::WitVariable>,
                ) -> ::core::result::Result<(), ::cloudexec_sdk::__private::WitError> {
                    ::cloudexec_sdk::__private::run(updates, super::#ident)
                }
            }

            export!(Export);
        }
    })
}

/// `manifest = EXPR`, the only argument of `#[bin]`.
fn parse_manifest_arg(attr: TokenStream2) -> syn::Result<Expr> {
    let span = attr.span();
    let mut manifest = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("manifest") {
            manifest = Some(meta.value()?.parse::<Expr>()?);
            Ok(())
        } else {
            Err(meta.error("expected `manifest = EXPR`"))
        }
    });
    syn::parse::Parser::parse2(parser, attr)?;
    manifest.ok_or_else(|| syn::Error::new(span, "#[bin] needs `manifest = EXPR`"))
}

/// One plain argument, a return type, no `async`, no generics, no receiver.
fn check_signature(func: &ItemFn, name: &str) -> syn::Result<()> {
    let sig = &func.sig;
    let fail = |span: proc_macro2::Span, what: &str| Err(syn::Error::new(span, format!("{name} functions {what}")));
    if let Some(token) = &sig.asyncness {
        return fail(token.span(), "cannot be async");
    }
    if !sig.generics.params.is_empty() {
        return fail(sig.generics.span(), "cannot be generic");
    }
    match sig.inputs.first() {
        Some(FnArg::Receiver(r)) => return fail(r.span(), "cannot take self"),
        Some(FnArg::Typed(_)) if sig.inputs.len() == 1 => {}
        _ => return fail(sig.ident.span(), "take exactly one argument"),
    }
    if let ReturnType::Default = sig.output {
        return fail(sig.ident.span(), "must return a Result");
    }
    Ok(())
}

/// The `generate!` call of `world`: every shared interface comes from the SDK.
fn generate(world: &str, extra_with: TokenStream2) -> TokenStream2 {
    quote! {
        ::cloudexec_sdk::__private::wit_bindgen::generate!({
            inline: #WIT,
            // An empty `path`, or wit-bindgen would also parse the guest crate's own
            // `wit/` folder, if it has one, next to the inline WIT.
            path: [],
            world: #world,
            with: {
                "cloudexec:runtime/types@0.1.0": ::cloudexec_sdk::__private::bindings::cloudexec::runtime::types,
                "cloudexec:runtime/log@0.1.0": ::cloudexec_sdk::__private::bindings::cloudexec::runtime::log,
                "cloudexec:runtime/vars@0.1.0": ::cloudexec_sdk::__private::bindings::cloudexec::runtime::vars,
                "cloudexec:runtime/functions@0.1.0": ::cloudexec_sdk::__private::bindings::cloudexec::runtime::functions,
                "cloudexec:runtime/state-machine@0.1.0": ::cloudexec_sdk::__private::bindings::cloudexec::runtime::state_machine,
                #extra_with
            },
            runtime_path: "::cloudexec_sdk::__private::wit_bindgen::rt",
        });
    }
}

/// `Guest::manifest`: the user's `&'static Manifest` as the generated WIT record.
fn manifest_fn() -> TokenStream2 {
    quote! {
        fn manifest() -> self::cloudexec::runtime::manifest_types::Manifest {
            use self::cloudexec::runtime::manifest_types as wit;
            use ::std::string::String;
            let m: &'static ::cloudexec_sdk::Manifest = super::__CLOUDEXEC_MANIFEST;
            let strings = |list: &[&str]| list.iter().map(|s| String::from(*s)).collect();
            wit::Manifest {
                functions: m.functions.iter().map(|f| wit::FunctionDecl {
                    function_key: f.key.into(),
                    function_name: f.name.into(),
                    params_typelist: strings(f.params),
                    return_type: f.returns.into(),
                }).collect(),
                state_machines: m.state_machines.iter().map(|s| wit::StateMachineDecl {
                    id: s.id,
                    name: s.name.into(),
                    states: strings(s.states),
                    initial: s.initial.into(),
                    transitions: s.transitions.iter().map(|t| wit::TransitionDecl {
                        from: t.from.into(),
                        to: t.to.into(),
                    }).collect(),
                }).collect(),
            }
        }
    }
}
