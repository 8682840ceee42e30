/** A reply's blocks as elements: numbered steps as an ordered list, warnings set apart. Text is
 * only ever rendered as text, never as HTML. */
import { chat } from '../../../src/texts/web.js';
import { type Inline, type ReplyBlock, replyBlocks } from './reply-blocks.js';

function Runs({ runs }: { runs: Inline[] }) {
  return (
    <>
      {runs.map((run, index) =>
        run.strong ? <strong key={index}>{run.text}</strong> : <span key={index}>{run.text}</span>,
      )}
    </>
  );
}

function Block({ block }: { block: ReplyBlock }) {
  switch (block.kind) {
    case 'heading':
      return (
        <p class="reply-title">
          <Runs runs={block.inlines} />
        </p>
      );
    case 'warning':
      return (
        <aside class="reply-warning" aria-label={chat.warningLabel}>
          <span class="reply-warning-icon" aria-hidden="true">
            ⚠
          </span>
          <p>
            <Runs runs={block.inlines} />
          </p>
        </aside>
      );
    case 'steps':
      return (
        <ol class="reply-steps" start={block.start} aria-label={chat.stepsLabel}>
          {block.items.map((item, index) => (
            <li key={index}>
              <Runs runs={item} />
            </li>
          ))}
        </ol>
      );
    case 'bullets':
      return (
        <ul class="reply-bullets">
          {block.items.map((item, index) => (
            <li key={index}>
              <Runs runs={item} />
            </li>
          ))}
        </ul>
      );
    default:
      return (
        <p>
          <Runs runs={block.inlines} />
        </p>
      );
  }
}

export function ReplyView({ text }: { text: string }) {
  return (
    <div class="reply">
      {replyBlocks(text).map((block, index) => (
        <Block key={index} block={block} />
      ))}
    </div>
  );
}
