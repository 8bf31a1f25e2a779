import { PostSchema, ProfileSchema } from '@nova/contracts';
import { PageQuery } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import { COMMENT_TEXT_MAX, HASHTAG_MAX, POST_MEDIA_MAX, POST_TEXT_MAX } from '../domain/post-rules.js';

export { PostSchema };

// Lengths are checked in code points (domain/post-rules.ts); the schema bound is
// in UTF-16 units, twice as many, so no valid text is refused here.
const PostText = (description: string) => Type.String({ maxLength: POST_TEXT_MAX * 2, description });

const Visibility = Type.Union([Type.Literal('public'), Type.Literal('followers'), Type.Literal('private')], {
  description: 'public: anyone; followers: approved followers; private: the author only',
});

export const NewPostSchema = Type.Object(
  {
    text: Type.Optional(PostText(`up to ${POST_TEXT_MAX} characters; #hashtags and @mentions are extracted`)),
    mediaIds: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }), {
        maxItems: POST_MEDIA_MAX,
        description: 'media items the caller uploaded, in display order',
      }),
    ),
    visibility: Type.Optional(Visibility),
  },
  { additionalProperties: false },
);

export const PostPatchSchema = Type.Object(
  { text: PostText(`the new text, up to ${POST_TEXT_MAX} characters`) },
  { additionalProperties: false },
);

export const PostVersionSchema = Type.Object({
  version: Type.Integer({ description: '1 is the original text' }),
  text: Type.String(),
  writtenAt: Type.String({ format: 'date-time', description: 'when this text became current' }),
  replacedAt: Type.String({ format: 'date-time', description: 'when an edit replaced it' }),
});

export const NewCommentSchema = Type.Object(
  {
    text: Type.String({ minLength: 1, maxLength: COMMENT_TEXT_MAX * 2 }),
    parentId: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        pattern: '^[A-Za-z0-9_-]+$',
        description: 'a top-level comment of the same post (one level of replies)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const CommentSchema = Type.Object({
  id: Type.String(),
  postId: Type.String(),
  parentId: Type.Union([Type.String(), Type.Null()]),
  author: ProfileSchema,
  text: Type.String(),
  replyCount: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
});

export const CommentsQuery = Type.Object({
  limit: PageQuery.properties.limit,
  cursor: PageQuery.properties.cursor,
  parentId: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[A-Za-z0-9_-]+$',
      description: 'list the replies to this comment instead of the top level',
    }),
  ),
});

export const TagParam = Type.Object({
  tag: Type.String({ minLength: 1, maxLength: HASHTAG_MAX * 4, description: 'case-insensitive, without #' }),
});

export const NoContent = Type.Null({ description: 'Done.' });
