//! Every message reaches a resource actor wrapped in [`Traced`] (the supervisor wraps it): the
//! actor handles it in a span that is a child of the sender's, and remembers the sender's
//! request id while it plans the write, so the commit and its events record it.

use actix::prelude::*;

use super::ResourceActor;
use crate::request::Traced;
use crate::resource::messages::*;

/// A message a resource actor handles, with the name its span shows.
pub trait ResourceMessage: Message {
    const NAME: &'static str;
}

impl ResourceActor {
    /// Handles `traced.message` in its sender's context.
    fn handle_traced<M>(&mut self, traced: Traced<M>, ctx: &mut Context<Self>) -> <Self as Handler<M>>::Result
    where
        M: ResourceMessage,
        Self: Handler<M>,
    {
        let span = tracing::info_span!(parent: &traced.span, "resource_actor", resource = self.id, message = M::NAME);
        let _entered = span.enter();
        tracing::debug!("handling a message");
        self.request_id = traced.request_id;
        let result = <Self as Handler<M>>::handle(self, traced.message, ctx);
        self.request_id = None;
        result
    }
}

macro_rules! resource_messages {
    ($($message:ident),* $(,)?) => {
        $(
            impl ResourceMessage for $message {
                const NAME: &'static str = stringify!($message);
            }

            impl Handler<Traced<$message>> for ResourceActor {
                type Result = <ResourceActor as Handler<$message>>::Result;

                fn handle(&mut self, traced: Traced<$message>, ctx: &mut Context<Self>) -> Self::Result {
                    self.handle_traced(traced, ctx)
                }
            }
        )*
    };
}

resource_messages!(
    Ready,
    Book,
    BookPart,
    BookSeries,
    Cancel,
    Reschedule,
    PlaceHold,
    ConfirmHold,
    CheckIn,
    ExpireEnded,
    UpdateResource,
    StartMaintenance,
    EndMaintenance,
    DeleteResource,
    Refresh,
    JoinWaitlist,
    LeaveWaitlist,
    AcceptOffer,
    Answer,
);
