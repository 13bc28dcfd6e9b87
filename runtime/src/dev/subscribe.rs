//! Subscribers: one unbounded channel each, read blocking, with a timeout, or awaited.

use std::time::Duration;

use parking_lot::Mutex;

use super::event::Event;

/// The publishing side: every subscriber gets every event published after it subscribed.
#[derive(Default)]
pub(crate) struct Hub {
    senders: Mutex<Vec<flume::Sender<Event>>>,
}

impl Hub {
    pub(crate) fn subscribe(&self) -> Subscription {
        let (sender, receiver) = flume::unbounded();
        self.senders.lock().push(sender);
        Subscription { receiver }
    }

    /// Sends `event` to every subscriber, forgetting those that were dropped.
    pub(crate) fn publish(&self, event: &Event) {
        self.senders
            .lock()
            .retain(|sender| sender.send(event.clone()).is_ok());
    }

    /// Disconnects every subscriber: their `recv` returns [`RecvError::Closed`] once the
    /// events already sent are read.
    pub(crate) fn close(&self) {
        self.senders.lock().clear();
    }
}

/// Why a [`Subscription`] returned no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecvError {
    /// The watcher stopped and every event it sent was read.
    #[error("the watcher stopped")]
    Closed,
    /// No event came in time (or none is waiting, for [`Subscription::try_recv`]).
    #[error("no event in time")]
    Timeout,
}

/// The events of one subscriber, in order, from [`Watcher::subscribe`](super::Watcher::subscribe).
///
/// Works with and without an async runtime: [`recv`](Self::recv) blocks the thread,
/// [`recv_async`](Self::recv_async) is a future any executor can await. The channel is
/// unbounded, so a slow subscriber never holds the watcher up and never misses an event.
#[derive(Debug, Clone)]
pub struct Subscription {
    receiver: flume::Receiver<Event>,
}

impl Subscription {
    /// The next event, waiting for it.
    pub fn recv(&self) -> Result<Event, RecvError> {
        self.receiver.recv().map_err(|_| RecvError::Closed)
    }

    /// The next event, waiting at most `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Event, RecvError> {
        self.receiver.recv_timeout(timeout).map_err(|e| match e {
            flume::RecvTimeoutError::Timeout => RecvError::Timeout,
            flume::RecvTimeoutError::Disconnected => RecvError::Closed,
        })
    }

    /// The next event if one is waiting.
    pub fn try_recv(&self) -> Result<Event, RecvError> {
        self.receiver.try_recv().map_err(|e| match e {
            flume::TryRecvError::Empty => RecvError::Timeout,
            flume::TryRecvError::Disconnected => RecvError::Closed,
        })
    }

    /// The next event, as a future (tokio, async-std, or any other executor).
    pub async fn recv_async(&self) -> Result<Event, RecvError> {
        self.receiver
            .recv_async()
            .await
            .map_err(|_| RecvError::Closed)
    }
}
